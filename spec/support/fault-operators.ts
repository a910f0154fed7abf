import { isMainThread } from 'node:worker_threads'
import type { CheckpointStorage } from '../../lib/checkpoint/checkpoint-storage.js'
import type { CheckpointMetadata, OperatorSubtaskState, StateHandle } from '../../lib/checkpoint/checkpoint-types.js'
import type {
  Collector,
  ProcessContext,
  ProcessFunction,
  RuntimeContext,
} from '../../lib/operators/process-function.js'
import { type OperatorStateEntries, StreamOperator } from '../../lib/runtime/stream-operator.js'
import { ValueStateDescriptor } from '../../lib/state/descriptors.js'
import type { ValueState } from '../../lib/state/value-state.js'
import { busyWait, type FaultLog, InjectedFault } from './fault-injection.js'

/**
 * The pieces of the fault jobs that inject a {@link FaultLog}'s faults: a slow map (a throw at record N
 * of subtask S, or the death of its worker thread), a pass-through whose snapshot throws or rejects, the keyed running count (a throw at
 * record N), and a checkpoint storage whose writes fail.
 */

/**
 * A map that busy-waits every `busyEvery` records and throws at record N of subtask S when the plan
 * says so (fault a, stage 'map'), or kills its worker thread (fault e). Its per-subtask count starts again with every attempt.
 *
 * @example
 * stream.transform('slow-map', () => new SlowFaultyMap(log), { uid: 'slow' })
 */
export class SlowFaultyMap extends StreamOperator<number, number> {
  private seen = 0
  /** A checkpoint has completed in this attempt: a worker crash restores it. */
  private checkpointed = false

  constructor(
    private readonly log: FaultLog | undefined,
    private readonly busyEvery: number,
    private readonly busyMs: number,
  ) {
    super()
  }

  processRecord(value: number, timestamp: number | undefined): void {
    this.seen++
    if (this.seen % this.busyEvery === 0) busyWait(this.busyMs)
    const fault = this.log?.take(
      'throw-in-function',
      (f) => f.stage === 'map' && f.subtask === this.subtask && f.atRecord === this.seen,
    )
    if (fault !== undefined) throw new InjectedFault(`map subtask ${this.subtask} record ${this.seen}`)
    if (this.checkpointed) this.crashWhenDue()
    this.output.collect(value, timestamp)
  }

  override notifyCheckpointComplete(): void {
    this.checkpointed = true
    this.crashWhenDue()
  }

  private crashWhenDue(): void {
    const crash = this.log?.take('crash-worker', (f) => f.subtask === this.subtask && this.seen >= f.atRecord)
    if (crash !== undefined) crashThisWorker(crash.how, `map subtask ${this.subtask} record ${this.seen}`)
  }
}

/**
 * Kills the worker thread this runs on (fault e): `exit` ends it at once, `uncaught` throws where no
 * handler catches it. Refuses on the main thread, where either would end the whole process.
 */
function crashThisWorker(how: 'exit' | 'uncaught', where: string): void {
  if (isMainThread) throw new InjectedFault(`crash-worker at ${where} outside a worker thread`)
  if (how === 'exit') process.exit(9)
  setImmediate(() => {
    throw new InjectedFault(`uncaught in the worker at ${where}`)
  })
}

/**
 * A pass-through operator whose snapshot throws or rejects at the plan's checkpoint (fault b); it keeps
 * a split state (its snapshot count), so it is part of every checkpoint.
 *
 * @example
 * stream.transform('snapshot-fault', () => new SnapshotFaultOperator(log), { uid: 'snapshot-fault' })
 */
export class SnapshotFaultOperator extends StreamOperator<number, number> {
  private snapshots = 0

  constructor(private readonly log: FaultLog | undefined) {
    super()
  }

  processRecord(value: number, timestamp: number | undefined): void {
    this.output.collect(value, timestamp)
  }

  override snapshotOperatorState(
    checkpointId: number,
  ): OperatorStateEntries | Promise<OperatorStateEntries> | undefined {
    this.snapshots++
    const fault = this.log?.take('snapshot-fails', (f) => f.subtask === this.subtask && f.checkpoint === this.snapshots)
    if (fault?.how === 'throw')
      throw new InjectedFault(`snapshot of subtask ${this.subtask} throws at checkpoint ${checkpointId}`)
    if (fault?.how === 'reject')
      return Promise.reject(
        new InjectedFault(`snapshot of subtask ${this.subtask} rejects at checkpoint ${checkpointId}`),
      )
    return { split: [{ subtask: this.subtask, snapshots: this.snapshots }] }
  }
}

/**
 * The keyed running count of the fault jobs: emits `x@key:n` for the n-th record `x` of its key, and
 * throws at record N of subtask S when the plan says so (fault a, stage 'count').
 *
 * @example
 * stream.pipe(keyBy((x) => x % 10), process(new FaultyRunningCount(log), { uid: 'count' }))
 */
export class FaultyRunningCount implements ProcessFunction<number, string> {
  private count!: ValueState<number>
  private subtask = 0
  private seen = 0

  constructor(private readonly log: FaultLog | undefined) {}

  open(rt: RuntimeContext): void {
    this.count = rt.getState(new ValueStateDescriptor<number>('count', { defaultValue: 0 }))
    this.subtask = rt.subtask
    this.seen = 0
  }

  processElement(x: number, ctx: ProcessContext, out: Collector<string>): void {
    this.seen++
    const fault = this.log?.take(
      'throw-in-function',
      (f) => f.stage === 'count' && f.subtask === this.subtask && f.atRecord === this.seen,
    )
    if (fault !== undefined) throw new InjectedFault(`count subtask ${this.subtask} record ${this.seen}`)
    const n = this.count.value()! + 1
    this.count.update(n)
    out.collect(`${x}@${String(ctx.currentKey)}:${n}`)
  }
}

/**
 * A checkpoint storage that fails to write a state of the plan's checkpoint (fault b, asynchronous part):
 * the subtask declines the checkpoint, and the job tolerates it or fails over.
 *
 * @example
 * new FaultyStorage(new MemoryStorage(), log)
 */
export class FaultyStorage implements CheckpointStorage {
  readonly description: string

  constructor(
    private readonly inner: CheckpointStorage,
    private readonly log: FaultLog | undefined,
    private readonly failAlways?: (checkpointId: number) => boolean,
  ) {
    this.description = `faulty ${inner.description}`
  }

  async writeState(
    checkpointId: number,
    uid: string,
    subtask: number,
    state: OperatorSubtaskState,
  ): Promise<StateHandle> {
    if (this.failAlways?.(checkpointId)) throw new InjectedFault(`storage write of checkpoint ${checkpointId}`)
    if (this.log?.take('storage-write-fails', (f) => checkpointId >= f.checkpoint) !== undefined)
      throw new InjectedFault(`storage write of checkpoint ${checkpointId}`)
    return this.inner.writeState(checkpointId, uid, subtask, state)
  }

  readState(handle: StateHandle): Promise<OperatorSubtaskState> {
    return this.inner.readState(handle)
  }

  complete(metadata: CheckpointMetadata): Promise<void> {
    return this.inner.complete(metadata)
  }

  prune(latestId: number, keep: readonly number[]): Promise<void> {
    return this.inner.prune(latestId, keep)
  }

  discard(checkpointId: number): Promise<void> {
    return this.inner.discard(checkpointId)
  }

  latest(): Promise<CheckpointMetadata | undefined> {
    return this.inner.latest()
  }

  saveSavepoint(metadata: CheckpointMetadata, directory: string): Promise<string> {
    return this.inner.saveSavepoint(metadata, directory)
  }
}

import { PipelineError, UserFunctionError, messageOf } from '../errors.js'
import type { Logger } from '../logging.js'
import { KeyedStateBackend } from '../state/keyed-state-backend.js'
import type { KeyGroupRange } from '../state/key-groups.js'
import type { ProcessingTimeService } from '../time/processing-time.js'
import type { Timer } from '../time/timer-heap.js'
import { TimerService } from '../time/timer-service.js'
import type { OperatorRestore } from '../checkpoint/state-assignment.js'
import { restoreKeyedState } from '../state/keyed-snapshot.js'
import type { MetricGroup } from './metric-group.js'
import type { Output } from './output.js'
import { DEAD_LETTERS, type DeadLetter } from './output-tag.js'

/**
 * What an operator does with a record its user function failed on. `escalate` (default, as Flink) fails
 * the job and the job's restart strategy applies; `restart` restarts the job from its latest checkpoint
 * whatever the job strategy says; `resume` sends the record to the dead-letter output and goes on with
 * the state as it was.
 */
export type ErrorPolicy = 'escalate' | 'restart' | 'resume'

/** Operator state of one subtask for a checkpoint. */
export interface OperatorStateEntries {
  readonly split?: readonly unknown[]
  readonly union?: readonly unknown[]
}

/** What the runtime hands an operator subtask before it opens. */
export interface OperatorSetup {
  readonly name: string
  readonly uid: string
  readonly subtask: number
  readonly parallelism: number
  readonly maxParallelism: number
  /** The key groups this subtask owns; present when the operator's input is keyed. */
  readonly keyGroups: KeyGroupRange | undefined
  readonly processingTime: ProcessingTimeService
  readonly errorPolicy: ErrorPolicy
  /**
   * Runs `fn` inside the subtask, between batches (the subtask's mailbox), for work that completes
   * asynchronously: results of async calls are emitted from here, never from a bare callback.
   */
  readonly runInMailbox: (fn: () => void) => void
  /** The environment's watermark interval, for watermark generators that have none of their own. */
  readonly autoWatermarkIntervalMs: number
  /** The job's structured logger, with the operator and subtask in every line. */
  readonly logger: Logger
}

/**
 * The base of every operator (Flink's AbstractStreamOperator): holds the output, and for keyed inputs
 * the keyed state backend and timer service. Subclasses implement `processRecord`; watermarks fire due
 * event-time timers, then move on downstream.
 *
 * @example
 * class Doubler extends StreamOperator<number, number> {
 *   processRecord(v: number, ts: number | undefined) { this.output.collect(v * 2, ts) }
 * }
 */
export abstract class StreamOperator<IN, OUT> {
  protected output!: Output<OUT>
  protected setupInfo!: OperatorSetup
  /** Present when the input is keyed. */
  keyedState: KeyedStateBackend | undefined
  timers: TimerService | undefined

  get name(): string {
    return this.setupInfo.name
  }

  get subtask(): number {
    return this.setupInfo.subtask
  }

  get errorPolicy(): ErrorPolicy {
    return this.setupInfo.errorPolicy
  }

  setup(setup: OperatorSetup, output: Output<OUT>): void {
    this.setupInfo = setup
    this.output = output
    if (setup.keyGroups !== undefined) {
      const clock = setup.processingTime
      this.keyedState = new KeyedStateBackend(setup.keyGroups, () => clock.now())
      this.timers = new TimerService(this.keyedState.keyContext, clock, {
        onEventTime: (timer) => this.fire(timer, 'event-time'),
        onProcessingTime: (timer) => this.fire(timer, 'processing-time'),
      })
    }
  }

  /**
   * Takes back the state of a checkpoint, before `open`: keyed state and timers for the key groups this
   * subtask owns, and the operator state dealt to it.
   */
  initializeState(restore: OperatorRestore): void {
    if (this.keyedState !== undefined) {
      restoreKeyedState(this.keyedState, this.timers, restore.keyed)
      this.timers?.rearm()
    }
    this.restoreOperatorState(restore.split, restore.union)
  }

  /** Operator (non-keyed) state handed back on restore; see {@link snapshotOperatorState}. */
  protected restoreOperatorState(_split: readonly unknown[], _union: readonly unknown[]): void {}

  /**
   * Operator state for checkpoint `checkpointId`, taken when its barrier passes: `split` entries are dealt
   * round-robin over the subtasks on restore, `union` entries go to all. A promise holds the subtask's
   * input until it settles (a sink's flush or pre-commit).
   */
  snapshotOperatorState(_checkpointId: number): OperatorStateEntries | Promise<OperatorStateEntries> | undefined {
    return undefined
  }

  /** Every subtask has its state of checkpoint `checkpointId` stored: commit what waited for it. */
  notifyCheckpointComplete(_checkpointId: number): void | Promise<void> {}

  /**
   * True when a promise from `snapshotOperatorState` waits only for what came before the barrier, so the
   * subtask goes on taking input while it settles; false (default): the input is held until it settles.
   * The same idea as {@link SinkWriter.writesWhileSnapshotting}.
   */
  writesWhileSnapshotting(): boolean {
    return !this.snapshotHoldsInput()
  }

  /** @deprecated Override {@link writesWhileSnapshotting} (its inverse) instead. */
  snapshotHoldsInput(): boolean {
    return true
  }

  /** Checkpoint `checkpointId` will not complete. */
  notifyCheckpointAborted(_checkpointId: number): void {}

  /** Called once after setup and state restore, before the first record. */
  open(): void {}

  /** The metric group of the connector inside (a sink's writer), exported as connector metrics. */
  connectorMetrics(): MetricGroup | undefined {
    return undefined
  }

  /** Metrics of its own beyond records in and out (async requests, late records), for the job's snapshot. */
  detailedMetrics(): Readonly<Record<string, unknown>> | undefined {
    return undefined
  }

  /**
   * A promise while the operator cannot take more records (a sink's buffer, async requests at
   * capacity); the subtask then stops reading input until it settles, which backpressures upstream.
   */
  ready(): Promise<void> | undefined {
    return undefined
  }

  abstract processRecord(value: IN, timestamp: number | undefined): void

  /** The second input of a two-input operator. */
  processRecord2(_value: unknown, _timestamp: number | undefined): void {
    throw new Error(`operator ${this.name} has one input`)
  }

  processWatermark(watermark: number): void {
    this.timers?.advanceWatermark(watermark)
    this.output.emitWatermark(watermark)
  }

  processWatermarkStatus(idle: boolean): void {
    this.output.emitWatermarkStatus(idle)
  }

  /** Called when a timer of the current key is due. */
  onTimer(_timer: Timer, _domain: 'event-time' | 'processing-time'): void {}

  /**
   * All input has been read (a bounded job ends). Emit what is still held; an operator with work in
   * flight returns a promise, and downstream hears of the end only after it settles.
   */
  endInput(): void | Promise<void> {}

  /** Sends a record this operator cannot process to the dead-letter output, with the reason. */
  sendToDeadLetters(record: unknown, reason: string, error?: unknown): void {
    const letter: DeadLetter = { operator: this.name, subtask: this.subtask, reason, record, error, at: Date.now() }
    this.output.emitSide(DEAD_LETTERS, letter, undefined)
  }

  /** Releases resources after a clean end; may finish asynchronously (sinks flush here). */
  close(): void | Promise<void> {
    this.timers?.close()
  }

  /** Releases resources when the job is cancelled or failed: nothing more is emitted or written. */
  abort(): void | Promise<void> {
    this.timers?.close()
  }

  private fire(timer: Timer, domain: 'event-time' | 'processing-time'): void {
    guardUserCall(this, timer, () => this.onTimer(timer, domain))
  }
}

/**
 * Runs a user-facing call of an operator and applies its error policy: under `resume` the failing record
 * goes to the dead-letter output; otherwise the error, wrapped to name the operator, subtask and record,
 * is thrown on. Errors already wrapped by an operator downstream, and pipeline mistakes (which no
 * policy can handle), are thrown on untouched.
 *
 * @example
 * guardUserCall(op, record, () => op.processRecord(record, ts))
 */
export function guardUserCall(op: StreamOperator<any, any>, record: unknown, call: () => void): void {
  try {
    call()
  } catch (error) {
    handleUserError(op, record, error)
  }
}

/**
 * The error policy applied to one failure of `op` on `record`.
 *
 * @example
 * try { op.processRecord(v, ts) } catch (e) { handleUserError(op, v, e) }
 */
export function handleUserError(op: StreamOperator<any, any>, record: unknown, error: unknown): void {
  if (error instanceof UserFunctionError || error instanceof PipelineError) throw error
  const wrapped = new UserFunctionError(op.name, op.subtask, record, error, op.errorPolicy === 'restart')
  if (op.errorPolicy === 'resume') {
    op.sendToDeadLetters(record, messageOf(error), wrapped)
    return
  }
  throw wrapped
}

import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import type { CheckpointStorage } from '../../lib/checkpoint/checkpoint-storage.js'
import { DirectoryStorage } from '../../lib/checkpoint/directory-storage.js'
import { keyGroupSections } from '../../lib/state/keyed-snapshot.js'
import { MemoryStorage } from '../../lib/checkpoint/memory-storage.js'
import { keyBy } from '../../lib/operators/key-by.js'
import { process } from '../../lib/operators/process.js'
import type { JobHandle } from '../../lib/runtime/job-handle.js'
import type { Sink } from '../../lib/runtime/sink.js'
import type { Logger } from '../../lib/logging.js'
import type { FaultLog, FaultPlan } from './fault-injection.js'
import { FaultyRunningCount, FaultyStorage, SlowFaultyMap, SnapshotFaultOperator } from './fault-operators.js'
import { Ledger } from './ledger-sink.js'
import { FaultyLedgerSink } from './ledger-faults.js'
import { sharedSlots } from './shared-flags.js'
import { changed } from './shared-gate.js'
import { replayedTest } from './worker-pass/pass-context.js'
import { settlesWithin } from './wait-for.js'
import type { InputStatus, Source, SourceOutput, SourceReader, SourceReaderContext } from '../../lib/runtime/source.js'

/**
 * The job every fault schedule runs: `fromSequence(1, records)` → a slow map (fault a) → a pass-through
 * whose snapshot can fail (fault b) → `keyBy(x % keys)` → a keyed running count (fault a) → `sink`.
 * Every operator has a uid, so the job restores from its own checkpoints and savepoints.
 *
 * @example
 * buildCountJob(env, plan, log, new LedgerSink(ledger))
 */
export function buildCountJob(
  env: StreamEnvironment,
  plan: FaultPlan,
  log: FaultLog | undefined,
  sink: Sink<string>,
  source?: Source<number>,
): void {
  ;(source === undefined
    ? env.fromSequence(1, plan.records, { uid: 'numbers' })
    : env.fromSource(source, { uid: 'numbers' })
  )
    .transform('slow-map', () => new SlowFaultyMap(log, plan.busyEvery, plan.busyMs), { uid: 'slow' })
    .transform('snapshot-fault', () => new SnapshotFaultOperator(log), { uid: 'snapshot-fault' })
    .pipe(
      keyBy((x: number) => x % plan.keys),
      process(new FaultyRunningCount(log), { uid: 'count' }),
    )
    .sinkTo(sink, { uid: 'ledger', parallelism: plan.sinkParallelism })
}

/** The outcome of one in-process schedule. */
export interface ScheduleRun {
  readonly ledger: Ledger<string>
  readonly job: JobHandle
  readonly restarts: number
  readonly durationMs: number
}

/**
 * Runs one in-process schedule (faults a–c) to its end with a {@link Ledger} that outlives restarts.
 * Rejects when the job fails or does not finish within `timeoutMs` (the job is cancelled then).
 *
 * @example
 * const { ledger } = await runSchedule(planFromSeed(1), new FaultLog(plan))
 */
export async function runSchedule(
  plan: FaultPlan,
  log: FaultLog,
  options: {
    timeoutMs?: number
    storage?: CheckpointStorage
    logger?: Logger
    sink?: Sink<string>
    /** Replaces `fromSequence(1, plan.records)`: a connector's source that yields those numbers. */
    source?: Source<number>
  } = {},
): Promise<ScheduleRun> {
  const ledger = new Ledger<string>()
  const env = StreamEnvironment.create({
    parallelism: plan.parallelism,
    batchSize: plan.batchSize,
    channelCredits: plan.channelCredits,
    ...(options.logger === undefined ? { logLevel: 'silent' as const } : { logger: options.logger }),
    checkpointing: {
      intervalMs: plan.intervalMs,
      mode: plan.mode,
      tolerableFailures: plan.tolerableFailures,
      storage: new FaultyStorage(options.storage ?? new MemoryStorage(), log),
    },
    restartStrategy: { kind: 'fixed-delay', attempts: plan.faults.length * 2 + 2, delayMs: plan.restartDelayMs },
  })
  // Another sink (a connector's) leaves the ledger empty: the test reads the output where that sink wrote it.
  buildCountJob(env, plan, log, options.sink ?? new FaultyLedgerSink(ledger, log), options.source)
  const job = env.executeAsync(`fault schedule ${plan.seed}`)
  try {
    const result = await settlesWithin(job.result, {
      timeoutMs: options.timeoutMs ?? 20_000,
      description: `job of seed ${plan.seed} finished`,
    })
    return { ledger, job, restarts: result.metrics.restarts, durationMs: result.durationMs }
  } catch (error) {
    await job.cancel()
    throw error
  }
}

/** The slots of a {@link SequenceGate}: what its readers emitted, how many wait, its fraction (in millionths), its openings. */
const EMITTED = 0
const WAITING = 1
const MILLIONTHS = 2
const OPENINGS = 3

/**
 * How far a {@link GatedSequenceSource} may read: each split emits while its progress (the share of its
 * range emitted) is below `fraction`. Raising it lets the readers go on; `emitted` counts what all
 * readers of all jobs using the gate emitted, so a test can wait until they reached the gate. Its
 * state is in memory every thread of the test shares (`sharedSlots`): on the worker executor the spec
 * opens the gate of readers in workers and sees what they emitted.
 *
 * @example
 * const gate = new SequenceGate(0.3); ...; await waitFor(() => gate.waiting > 0); gate.open(0.6)
 */
export class SequenceGate {
  private readonly slots: Int32Array

  constructor(fraction: number) {
    this.slots = sharedSlots(4, [0, 0, Math.round(fraction * 1e6), 0])
  }

  get fraction(): number {
    return Atomics.load(this.slots, MILLIONTHS) / 1e6
  }

  /** Numbers emitted by every reader of the gate. */
  get emitted(): number {
    return Atomics.load(this.slots, EMITTED)
  }

  /** Readers currently waiting at the gate with input left. */
  get waiting(): number {
    return Atomics.load(this.slots, WAITING)
  }

  /** A reader emitted `count` numbers. */
  passed(count: number): void {
    Atomics.add(this.slots, EMITTED, count)
  }

  /** A reader arrived at the gate (1) or left it (−1). */
  arrived(delta: 1 | -1): void {
    Atomics.add(this.slots, WAITING, delta)
  }

  /** Lets the readers go on to `fraction` (the test's coordinator does: a worker replaying the test leaves the gate as it is). */
  open(fraction: number): void {
    if (replayedTest() !== undefined) return
    Atomics.store(this.slots, MILLIONTHS, Math.round(fraction * 1e6))
    Atomics.add(this.slots, OPENINGS, 1)
    Atomics.notify(this.slots, OPENINGS)
  }

  /** How many times the gate was opened: a reader that found it shut waits for a later {@link opened}. */
  get openings(): number {
    return Atomics.load(this.slots, OPENINGS)
  }

  /** Resolves once the gate was opened more than `since` times, whichever thread opens it. */
  opened(since: number): Promise<void> {
    return changed(this.slots, OPENINGS, since)
  }
}

/** A range of a {@link GatedSequenceSource}: its first number, the next to emit and its last. */
export interface GatedSplit {
  readonly start: number
  next: number
  readonly end: number
}

/**
 * The numbers `from`..`to` cut into one split per subtask of the first run, as SequenceSource does, but
 * each split only emits up to the {@link SequenceGate}'s fraction of its range: a test stops a job at
 * a known point, while its sources are idle, and takes a savepoint there. Positions are checkpointed
 * per split, so the splits are dealt out again on a restore with another parallelism.
 *
 * @example
 * env.fromSource(new GatedSequenceSource(1, 12_000, gate), { uid: 'numbers' })
 */
export class GatedSequenceSource implements Source<number, GatedSplit> {
  readonly name = 'gated-sequence'
  readonly bounded = true

  constructor(
    readonly from: number,
    readonly to: number,
    readonly gate: SequenceGate,
  ) {}

  createReader(context: SourceReaderContext, restored?: GatedSplit[]): SourceReader<number, GatedSplit> {
    if (restored !== undefined)
      return new GatedReader(
        restored.map((s) => ({ ...s })),
        this.gate,
      )
    const count = this.to - this.from + 1
    const start = this.from + Math.floor((count * context.subtask) / context.parallelism)
    const end = this.from + Math.floor((count * (context.subtask + 1)) / context.parallelism) - 1
    return new GatedReader(end >= start ? [{ start, next: start, end }] : [], this.gate)
  }
}

/** How many numbers of `split` the gate lets through at `fraction`. */
export function gateLimit(split: { start: number; end: number }, fraction: number): number {
  return Math.min(split.end - split.start + 1, Math.ceil(fraction * (split.end - split.start + 1)))
}

class GatedReader implements SourceReader<number, GatedSplit> {
  private atGate = false
  /** The gate's openings when the reader last looked at its fraction. */
  private openings = 0

  constructor(
    private readonly splits: GatedSplit[],
    private readonly gate: SequenceGate,
  ) {}

  start(): void {}

  pollNext(output: SourceOutput<number>): InputStatus {
    this.openings = this.gate.openings
    let emitted = 0
    for (const split of this.splits) {
      while (
        emitted < 16 &&
        split.next <= split.end &&
        split.next - split.start < gateLimit(split, this.gate.fraction)
      ) {
        output.collect(split.next++)
        emitted++
      }
      if (emitted > 0) break
    }
    if (emitted > 0) this.gate.passed(emitted)
    if (this.splits.every((s) => s.next > s.end)) return this.arrived(false, 'end')
    return emitted > 0 ? this.arrived(false, 'more') : this.arrived(true, 'nothing-available')
  }

  isAvailable(): Promise<void> {
    return this.gate.opened(this.openings)
  }

  snapshotState(): GatedSplit[] {
    return this.splits.filter((s) => s.next <= s.end).map((s) => ({ ...s }))
  }

  close(): void {
    this.arrived(false, 'end')
  }

  private arrived(atGate: boolean, status: InputStatus): InputStatus {
    if (atGate !== this.atGate) this.gate.arrived(atGate ? 1 : -1)
    this.atGate = atGate
    return status
  }
}

/** What a savepoint of the keyed count holds: the sources' positions and each key's count. */
export interface CountSavepoint {
  readonly id: number
  /** Splits still to read, over all source subtasks. */
  readonly splits: GatedSplit[]
  /** Keyed count per key, over all count subtasks. */
  readonly counts: Map<number, number>
  /** How many subtasks of the count wrote keyed state, and the parallelism it was taken at. */
  readonly countSubtasksWithState: number
  readonly countParallelism: number
}

/**
 * Reads a savepoint (or retained checkpoint) directory of the keyed count job.
 *
 * @example
 * const { counts } = await readCountSavepoint('/tmp/sp1') // counts.get(3) === 225
 */
export async function readCountSavepoint(directory: string): Promise<CountSavepoint> {
  const { metadata, read } = await DirectoryStorage.openSavepoint(directory)
  const splits: GatedSplit[] = []
  for (const handle of metadata.operators.numbers?.subtasks ?? [])
    if (handle !== null) splits.push(...(((await read(handle)).split as GatedSplit[] | undefined) ?? []))
  const counts = new Map<number, number>()
  const count = metadata.operators.count!
  let withState = 0
  for (const handle of count.subtasks) {
    if (handle === null) continue
    const keyed = (await read(handle)).keyed
    if (keyed === undefined) continue
    withState++
    for (const [, section] of keyGroupSections(keyed)) {
      for (const [key, value] of keyValuePairs(section.states.count))
        counts.set(Number(key), (counts.get(Number(key)) ?? 0) + Number(value))
    }
  }
  return { id: metadata.id, splits, counts, countSubtasksWithState: withState, countParallelism: count.parallelism }
}

/** The entries of one state in a key group section: `[key, value, key, value …]` or `[[key, value] …]`. */
function keyValuePairs(entries: unknown): Array<[unknown, unknown]> {
  const list = (entries ?? []) as unknown[]
  if (list.length > 0 && Array.isArray(list[0])) return list as Array<[unknown, unknown]>
  const pairs: Array<[unknown, unknown]> = []
  for (let i = 0; i + 1 < list.length; i += 2) pairs.push([list[i], list[i + 1]])
  return pairs
}

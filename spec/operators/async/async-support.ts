import { engineOperator, type EngineOperator, requireStream } from '../../../lib/api/engine-operator.js'
import { StreamOperator } from '../../../lib/runtime/stream-operator.js'
import { sharedSlots } from '../../support/shared-flags.js'

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** The slots of a {@link FakeService}'s counters. */
const CALLS = 0
const ACTIVE = 1
const MAX_ACTIVE = 2
const COMPLETED = 3
const ABORTED = 4

/**
 * A pretend remote service: answers `answer(x)` after `latencyMs(x)` (aborting when the signal does),
 * and counts its calls, the calls running at once (and the most ever), completions and aborts. The
 * counters are in memory every thread of the test shares (`sharedSlots`): on the worker executor the
 * calls run in the workers, and the spec reads their counts on the coordinator.
 *
 * @example
 * const svc = new FakeService((x: number) => x * 2, () => 5); stream.pipe(asyncMap(svc.call, { capacity: 4 }))
 */
export class FakeService<IN, OUT> {
  private readonly slots = sharedSlots(5)

  constructor(
    private readonly answer: (value: IN, attempt: number) => OUT | Promise<OUT>,
    private readonly latencyMs: (value: IN) => number,
  ) {}

  /** Calls started. */
  get calls(): number {
    return Atomics.load(this.slots, CALLS)
  }

  /** Calls running now. */
  get active(): number {
    return Atomics.load(this.slots, ACTIVE)
  }

  /** The most calls ever running at once. */
  get maxActive(): number {
    return Atomics.load(this.slots, MAX_ACTIVE)
  }

  /** Calls answered. */
  get completed(): number {
    return Atomics.load(this.slots, COMPLETED)
  }

  /** Calls aborted by their signal. */
  get aborted(): number {
    return Atomics.load(this.slots, ABORTED)
  }

  readonly call = async (value: IN, signal: AbortSignal): Promise<OUT> => {
    Atomics.add(this.slots, CALLS, 1)
    const active = Atomics.add(this.slots, ACTIVE, 1) + 1
    for (let max = this.maxActive; active > max; max = this.maxActive)
      if (Atomics.compareExchange(this.slots, MAX_ACTIVE, max, active) === max) break
    try {
      await sleep(this.latencyMs(value), signal)
    } catch (error) {
      Atomics.add(this.slots, ABORTED, 1)
      throw error
    } finally {
      Atomics.sub(this.slots, ACTIVE, 1)
    }
    Atomics.add(this.slots, COMPLETED, 1)
    return this.answer(value, this.calls)
  }
}

/** What a {@link probe} saw, in order: records with their timestamps, watermarks, and the end of its input. */
export type Seen<T> =
  | { kind: 'record'; value: T; timestamp: number | undefined }
  | { kind: 'watermark'; watermark: number }
  | { kind: 'end' }

/** Where a {@link probe} writes down what it sees: an array, or a `SharedList` the threads of a test share. */
export interface SeenLog<T> {
  push(seen: Seen<T>): unknown
}

/**
 * An operator that writes down every record and watermark passing through it, then forwards them:
 * put it after the operator under test to see where its watermarks fall between its records.
 *
 * @example
 * const seen: Seen<number>[] = []; from(xs).pipe(asyncMap(f), probe(seen))
 */
export function probe<T>(seen: SeenLog<T>): EngineOperator<T, T> {
  return engineOperator((input) => requireStream(input, 'probe').transform('probe', () => new ProbeOperator<T>(seen)))
}

class ProbeOperator<T> extends StreamOperator<T, T> {
  constructor(private readonly seen: SeenLog<T>) {
    super()
  }

  processRecord(value: T, timestamp: number | undefined): void {
    this.seen.push({ kind: 'record', value, timestamp })
    this.output.collect(value, timestamp)
  }

  override processWatermark(watermark: number): void {
    this.seen.push({ kind: 'watermark', watermark })
    this.output.emitWatermark(watermark)
  }

  override endInput(): void {
    this.seen.push({ kind: 'end' })
  }
}

/** Splits what a probe saw at its watermarks: the records of each stretch between two of them. */
export function segmentsOf<T>(seen: readonly Seen<T>[]): T[][] {
  const segments: T[][] = [[]]
  for (const s of seen) {
    if (s.kind === 'record') segments[segments.length - 1]!.push(s.value)
    else if (s.kind === 'watermark') segments.push([])
  }
  return segments.filter((s) => s.length > 0)
}

/** A deterministic pseudo-random sequence (mulberry32), so failures replay. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

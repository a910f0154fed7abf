import { liveHeapBytes } from './live-heap.js'
import { sharedRecord } from './shared-flags.js'

/**
 * The growth of the live heap of the thread a job's function runs in, for tests that bound the memory
 * a source's reader keeps under load: a function chained to the reader calls `onRecord()` for each
 * record, so on the worker executor it measures the worker hosting the reader, not the spec's thread,
 * and on one thread the spec's own. The first record's call takes the baseline, then every
 * `everyRecords`th call samples (a full collection each): the samples follow the load's progress, not
 * the clock, so their number is fixed and a large or slow heap (the one-process main pass, where earlier
 * suites left theirs, on a loaded machine) slows a test by that many collections and cannot starve the
 * thread. What the samples saw lives in memory every thread of the test shares (`sharedRecord`, in
 * KiB), so the test reads it on the coordinator. Call from one subtask only: a baseline is one thread's.
 *
 * @example
 * const heap = new ThreadHeapProbe(1_000)
 * env.fromSource(source).pipe(map((line) => { heap.onRecord(); return line }))
 * // … after 10,000 records and the baseline's
 * assert.is(heap.samples, 11)
 * assert.ok(heap.growthBytes < 16 * 2 ** 20)
 */
export class ThreadHeapProbe {
  private readonly seen = sharedRecord({ baselineKiB: 0, mostKiB: 0, samples: 0 })
  /** Records this thread saw. */
  private records = 0

  constructor(private readonly everyRecords: number) {}

  /** Counts one record; samples the live heap on the first and on every `everyRecords`th after it. */
  onRecord(): void {
    if (this.records++ % this.everyRecords !== 0) return
    const kiB = Math.round(liveHeapBytes() / 1024)
    if (this.seen.samples++ === 0) this.seen.baselineKiB = kiB
    else this.seen.mostKiB = Math.max(this.seen.mostKiB, kiB - this.seen.baselineKiB)
  }

  /** The most the live heap grew over the baseline, in bytes. */
  get growthBytes(): number {
    return this.seen.mostKiB * 1024
  }

  /** Samples taken, the baseline included. */
  get samples(): number {
    return this.seen.samples
  }
}

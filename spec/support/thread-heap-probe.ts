import { liveHeapBytes } from './live-heap.js'
import { sharedRecord } from './shared-flags.js'

/**
 * The growth of the live heap of the thread a job's function runs in, for tests that bound the memory
 * a source's reader keeps under load: a function chained to the reader calls `sample()` (a full
 * collection at most every `everyMs`), so on the worker executor it measures the worker hosting the
 * reader, not the spec's thread, and on one thread the spec's own. The first sample is the baseline;
 * what the samples saw lives in memory every thread of the test shares (`sharedRecord`, in KiB), so the
 * test reads it on the coordinator. Sample from one subtask only: a baseline is one thread's.
 *
 * @example
 * const heap = new ThreadHeapProbe()
 * env.fromSource(source).pipe(map((line) => { heap.sample(); return line }))
 * // … after the load
 * assert.ok(heap.growthBytes < 16 * 2 ** 20)
 */
export class ThreadHeapProbe {
  private readonly seen = sharedRecord({ baselineKiB: 0, mostKiB: 0, samples: 0 })
  /** When this thread sampled last (its own clock). */
  private last = Number.NEGATIVE_INFINITY

  constructor(private readonly everyMs = 100) {}

  /** Samples the live heap if `everyMs` passed since this thread's last sample. */
  sample(): void {
    const now = performance.now()
    if (now - this.last < this.everyMs) return
    this.last = now
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

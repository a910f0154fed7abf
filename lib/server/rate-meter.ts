/** A rate is recomputed once its last sample is this old; reads in between return the last rate. */
const MIN_SPAN_MS = 500

/**
 * Per-second rates of counters read at irregular times (scrapes, dashboard polls): each series keeps
 * its last sample and the rate between the last two samples at least half a second apart. Series not read
 * for a minute are forgotten.
 *
 * Threading: main event loop only.
 *
 * @example
 * meter.rate('job-1/map/0/out', m.recordsOut, Date.now()) // records per second
 */
export class RateMeter {
  private readonly series = new Map<string, { at: number; value: number; rate: number; seen: number }>()

  constructor(private readonly clock: () => number = Date.now) {}

  /** The per-second rate of `value`, a counter that only grows (a restart may reset it to 0). */
  rate(series: string, value: number): number {
    const now = this.clock()
    const last = this.series.get(series)
    if (last === undefined) {
      this.series.set(series, { at: now, value, rate: 0, seen: now })
      return 0
    }
    last.seen = now
    if (now - last.at < MIN_SPAN_MS) return last.rate
    last.rate = value < last.value ? 0 : ((value - last.value) * 1000) / (now - last.at)
    last.at = now
    last.value = value
    return last.rate
  }

  /** Forgets series not read for a minute (ended jobs, old deployments). */
  prune(): void {
    const now = this.clock()
    for (const [key, s] of this.series) if (now - s.seen > 60_000) this.series.delete(key)
  }
}

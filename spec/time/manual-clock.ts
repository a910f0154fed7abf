import type { ProcessingTimeService } from '../../lib/time/processing-time.js'

interface Scheduled {
  readonly at: number
  readonly callback: () => void
  cancelled: boolean
}

/**
 * Processing time that moves only when a test says so: operator tests drive periodic watermarks,
 * idleness and processing-time windows deterministically, without sleeping.
 *
 * @example
 * const clock = new ManualClock(1_000)
 * clock.scheduleAt(1_200, tick); clock.advanceTo(1_200) // runs tick with now() === 1200
 */
export class ManualClock implements ProcessingTimeService {
  private readonly pending: Scheduled[] = []

  constructor(private time = 0) {}

  now(): number {
    return this.time
  }

  scheduleAt(timestamp: number, callback: () => void): () => void {
    const entry: Scheduled = { at: timestamp, callback, cancelled: false }
    this.pending.push(entry)
    return () => {
      entry.cancelled = true
    }
  }

  /** Moves the clock to `time`, running every callback due on the way, in time order, at its own time. */
  advanceTo(time: number): void {
    for (;;) {
      let next: Scheduled | undefined
      for (const entry of this.pending)
        if (!entry.cancelled && entry.at <= time && (next === undefined || entry.at < next.at)) next = entry
      if (next === undefined) break
      this.pending.splice(this.pending.indexOf(next), 1)
      this.time = Math.max(this.time, next.at)
      next.callback()
    }
    this.time = Math.max(this.time, time)
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.time + ms)
  }

  /** Callbacks scheduled and not yet run or cancelled. */
  get scheduled(): number {
    return this.pending.filter((e) => !e.cancelled).length
  }
}

// Hand-written window sums for the sliding and session window cases: what a careful programmer writes
// without an engine, with the same results as the engine's windows. The for-loop and RxJS baselines both
// drive these (next/complete), so the two measure the same code with and without RxJS around it.

/** Where a window's sum goes. */
export type EmitSum = (sum: number) => void

/** A window case's input: event time of a record (non-decreasing along the input) and its key. */
export interface KeyedTimes {
  readonly keys: number
  timestampOf(value: number): number
}

/**
 * Sliding event-time windows of a sum per key: one Map of keys per window start, a record added to the
 * `size / slide` windows that hold it; a window emitted once a record's timestamp reaches its end.
 */
export class SlidingBuckets {
  private readonly buckets = new Map<number, Map<number, number>>()
  /** The smallest end of a bucket held: no bucket is due before a record reaches it. */
  private oldestEnd = Number.POSITIVE_INFINITY

  constructor(
    private readonly spec: KeyedTimes & { readonly sizeMs: number; readonly slideMs: number },
    private readonly emit: EmitSum,
  ) {}

  next(x: number): void {
    const { sizeMs, slideMs } = this.spec
    const ts = this.spec.timestampOf(x)
    if (ts >= this.oldestEnd) {
      this.oldestEnd = Number.POSITIVE_INFINITY
      for (const [start, bucket] of this.buckets) {
        if (start + sizeMs > ts) {
          this.oldestEnd = Math.min(this.oldestEnd, start + sizeMs)
          continue
        }
        for (const s of bucket.values()) this.emit(s)
        this.buckets.delete(start)
      }
    }
    const key = x % this.spec.keys
    for (let start = ts - (ts % slideMs); start > ts - sizeMs; start -= slideMs) {
      let bucket = this.buckets.get(start)
      if (bucket === undefined) {
        bucket = new Map()
        this.buckets.set(start, bucket)
        this.oldestEnd = Math.min(this.oldestEnd, start + sizeMs)
      }
      bucket.set(key, (bucket.get(key) ?? 0) + x)
    }
  }

  complete(): void {
    for (const bucket of this.buckets.values()) for (const s of bucket.values()) this.emit(s)
    this.buckets.clear()
  }
}

interface Session {
  end: number
  sum: number
}

/**
 * Event-time session windows of a sum per key: the key's open session grows while records come within
 * `gapMs` of its end (a record at t spans [t, t + gap), touching windows merge), else it is emitted and
 * a new one starts.
 */
export class SessionBuckets {
  private readonly sessions = new Map<number, Session>()

  constructor(
    private readonly spec: KeyedTimes & { readonly gapMs: number },
    private readonly emit: EmitSum,
  ) {}

  next(x: number): void {
    const ts = this.spec.timestampOf(x)
    const key = x % this.spec.keys
    const session = this.sessions.get(key)
    if (session !== undefined && ts <= session.end) {
      session.end = Math.max(session.end, ts + this.spec.gapMs)
      session.sum += x
      return
    }
    if (session !== undefined) this.emit(session.sum)
    this.sessions.set(key, { end: ts + this.spec.gapMs, sum: x })
  }

  complete(): void {
    for (const session of this.sessions.values()) this.emit(session.sum)
    this.sessions.clear()
  }
}

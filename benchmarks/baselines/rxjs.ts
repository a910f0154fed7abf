// Baseline: plain RxJS 7 — `from(array).pipe(...)` subscribed by a counting observer. The target the
// issue sets for the engine is a ratio to this one.
import { Observable, filter, from, map } from 'rxjs'
import type { RunResult } from '../measure.js'
import { WINDOW_CHECKSUM_MODULUS, type WindowSpec } from './for-loop.js'

/** Subscribes and resolves with the count and sum of what arrives. */
function drain(
  source: Observable<number>,
  records: number,
  checksumOf: (value: number) => number = (v) => v,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let output = 0
    let checksum = 0
    source.subscribe({
      next: (v) => {
        output++
        checksum += checksumOf(v)
      },
      error: reject,
      complete: () => resolve({ records, output, checksum }),
    })
  })
}

/** Case stateless: map(x*2), filter(x % 3 !== 0). */
export function statelessChain(data: readonly number[]): Promise<RunResult> {
  return drain(
    from(data).pipe(
      map((x) => x * 2),
      filter((x) => x % 3 !== 0),
    ),
    data.length,
  )
}

/** Case keyed: map(x+1), filter, then a Map of counts per key x % 1000 updated in `map`, emitting the new count. */
export function keyedCount(data: readonly number[]): Promise<RunResult> {
  const counts = new Map<number, number>()
  return drain(
    from(data).pipe(
      map((x) => x + 1),
      filter((x) => x % 3 !== 0),
      map((x) => {
        const key = x % 1000
        const n = (counts.get(key) ?? 0) + 1
        counts.set(key, n)
        return n
      }),
    ),
    data.length,
  )
}

/**
 * A tumbling event-time window sum per key as a plain RxJS operator: a Map of window buckets, each
 * emitted (one sum per key) once a record's timestamp reaches its end; the rest on completion.
 */
function tumblingSum(spec: WindowSpec) {
  return (source: Observable<number>): Observable<number> =>
    new Observable<number>((subscriber) => {
      const buckets = new Map<number, Map<number, number>>()
      let oldestEnd = Infinity
      const emit = (bucket: Map<number, number>): void => {
        for (const s of bucket.values()) subscriber.next(s)
      }
      return source.subscribe({
        next(x) {
          const ts = spec.timestampOf(x)
          if (ts >= oldestEnd) {
            for (const [start, bucket] of buckets) {
              if (start + spec.sizeMs > ts) break
              emit(bucket)
              buckets.delete(start)
            }
            oldestEnd = Infinity
            for (const start of buckets.keys()) {
              oldestEnd = start + spec.sizeMs
              break
            }
          }
          const start = ts - (ts % spec.sizeMs)
          let bucket = buckets.get(start)
          if (bucket === undefined) {
            bucket = new Map()
            buckets.set(start, bucket)
            if (start + spec.sizeMs < oldestEnd) oldestEnd = start + spec.sizeMs
          }
          const key = x % spec.keys
          bucket.set(key, (bucket.get(key) ?? 0) + x)
        },
        error: (e) => subscriber.error(e),
        complete() {
          for (const bucket of buckets.values()) emit(bucket)
          buckets.clear()
          subscriber.complete()
        },
      })
    })
}

/** Case window: the sums per key and tumbling window. */
export function windowSum(data: readonly number[], spec: WindowSpec): Promise<RunResult> {
  return drain(from(data).pipe(tumblingSum(spec)), data.length, (s) => s % WINDOW_CHECKSUM_MODULUS)
}

/** Cases sliding and session windows: the hand-written window buckets as a plain RxJS operator. */
export function bucketSum(
  data: readonly number[],
  buckets: (emit: (sum: number) => void) => { next(x: number): void; complete(): void },
): Promise<RunResult> {
  const operator = (source: Observable<number>): Observable<number> =>
    new Observable<number>((subscriber) => {
      const windows = buckets((s) => subscriber.next(s))
      return source.subscribe({
        next: (x) => windows.next(x),
        error: (e) => subscriber.error(e),
        complete() {
          windows.complete()
          subscriber.complete()
        },
      })
    })
  return drain(from(data).pipe(operator), data.length, (s) => s % WINDOW_CHECKSUM_MODULUS)
}

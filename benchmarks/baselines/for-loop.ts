// Baseline: a plain `for` loop over the array, the limit no streaming library can beat in one thread.
// Every function does exactly the work of its case (see benchmarks/cases/) and returns the same checksum.
import type { RunResult } from '../measure.js'

/** Case stateless: x*2, keep x % 3 !== 0, count and sum what is left. */
export function statelessChain(data: readonly number[]): RunResult {
  let output = 0
  let sum = 0
  for (let i = 0; i < data.length; i++) {
    const y = data[i]! * 2
    if (y % 3 !== 0) {
      output++
      sum += y
    }
  }
  return { records: data.length, output, checksum: sum }
}

/** Case keyed: x+1, keep x % 3 !== 0, count per key x % keys (default 1000) in a Map, emit the key's new count. */
export function keyedCount(data: readonly number[], keys = 1000): RunResult {
  const counts = new Map<number, number>()
  let output = 0
  let sum = 0
  for (let i = 0; i < data.length; i++) {
    const y = data[i]! + 1
    if (y % 3 === 0) continue
    const key = y % keys
    const n = (counts.get(key) ?? 0) + 1
    counts.set(key, n)
    output++
    sum += n
  }
  return { records: data.length, output, checksum: sum }
}

/** What the window case computes: tumbling event-time windows of a sum per key. */
export interface WindowSpec {
  readonly sizeMs: number
  readonly keys: number
  /** Event time of a record, non-decreasing along the input. */
  timestampOf(value: number): number
}

/** Checksum of window results: sensitive to how records were grouped, exact in doubles. */
export const WINDOW_CHECKSUM_MODULUS = 1_000_003

/**
 * Case window: sums per (key, window) in a Map of window buckets; a bucket is emitted once a record's
 * timestamp reaches its end (the watermark of monotonous timestamps), the rest at the end of input.
 */
export function windowSum(data: readonly number[], spec: WindowSpec): RunResult {
  const buckets = new Map<number, Map<number, number>>()
  let output = 0
  let checksum = 0
  const emit = (bucket: Map<number, number>): void => {
    for (const s of bucket.values()) {
      output++
      checksum += s % WINDOW_CHECKSUM_MODULUS
    }
  }
  let oldestEnd = Infinity
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!
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
  }
  for (const bucket of buckets.values()) emit(bucket)
  return { records: data.length, output, checksum }
}

/** Cases sliding and session windows: a loop over the array into hand-written window buckets. */
export function bucketSum(
  data: readonly number[],
  buckets: (emit: (sum: number) => void) => { next(x: number): void; complete(): void },
): RunResult {
  let output = 0
  let checksum = 0
  const windows = buckets((s) => {
    output++
    checksum += s % WINDOW_CHECKSUM_MODULUS
  })
  for (let i = 0; i < data.length; i++) windows.next(data[i]!)
  windows.complete()
  return { records: data.length, output, checksum }
}

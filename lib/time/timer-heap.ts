import type { Key } from '../state/key-groups.js'
import { TimeHeap } from './time-heap.js'

/** A timer of one key: fires once, at `timestamp`, with that key current. */
export interface Timer {
  readonly timestamp: number
  readonly key: Key
  readonly keyGroup: number
}

/** The timers of one timestamp, in the order they were added; `byKey` says which are still live. */
interface Bucket {
  readonly timers: Timer[]
  head: number
  readonly byKey: Map<Key, Timer>
}

/**
 * A priority queue of timers by timestamp that holds each (timestamp, key) once, as Flink's
 * HeapPriorityQueueSet: registering the same timer twice keeps one. The heap orders distinct
 * timestamps; the timers of one timestamp wait in a bucket, so many keys sharing a time (the end of a
 * window) cost one heap step for all of them, and adding or removing a timer is a map operation.
 * Timers of one timestamp come out in the order they were added.
 *
 * Bounds: a removed timer or an emptied timestamp leaves a stale slot (skipped when reached); the heap
 * is rebuilt once stale timestamps outnumber live ones.
 *
 * @example
 * const heap = new TimerHeap(); heap.add({ timestamp: 5, key: 'a', keyGroup: 1 }); heap.peek()?.timestamp // 5
 */
export class TimerHeap {
  private readonly times = new TimeHeap()
  private readonly buckets = new Map<number, Bucket>()
  private count = 0

  get size(): number {
    return this.count
  }

  add(timer: Timer): boolean {
    let bucket = this.buckets.get(timer.timestamp)
    if (bucket === undefined) {
      bucket = { timers: [], head: 0, byKey: new Map() }
      this.buckets.set(timer.timestamp, bucket)
      this.times.push(timer.timestamp)
    } else if (bucket.byKey.has(timer.key)) return false
    bucket.byKey.set(timer.key, timer)
    bucket.timers.push(timer)
    this.count++
    return true
  }

  remove(timestamp: number, key: Key): boolean {
    const bucket = this.buckets.get(timestamp)
    if (bucket === undefined || !bucket.byKey.delete(key)) return false
    this.count--
    if (bucket.byKey.size === 0) this.dropBucket(timestamp)
    return true
  }

  peek(): Timer | undefined {
    const bucket = this.firstBucket()
    if (bucket === undefined) return undefined
    return bucket.timers[bucket.head]
  }

  poll(): Timer | undefined {
    const bucket = this.firstBucket()
    if (bucket === undefined) return undefined
    const timer = bucket.timers[bucket.head++]!
    bucket.byKey.delete(timer.key)
    this.count--
    if (bucket.byKey.size === 0) this.dropBucket(timer.timestamp)
    return timer
  }

  /** Every timer, in no particular order (for snapshots). */
  *values(): IterableIterator<Timer> {
    for (const bucket of this.buckets.values()) yield* bucket.byKey.values()
  }

  /** The bucket of the smallest timestamp, its head on a live timer; stale slots on the way are dropped. */
  private firstBucket(): Bucket | undefined {
    const times = this.times
    while (times.length > 0) {
      const bucket = this.buckets.get(times.peek()!)
      if (bucket === undefined) {
        times.pop()
        continue
      }
      while (bucket.byKey.get(bucket.timers[bucket.head]!.key) !== bucket.timers[bucket.head]) bucket.head++
      return bucket
    }
    return undefined
  }

  private dropBucket(timestamp: number): void {
    this.buckets.delete(timestamp)
    // Its heap slot stays until it reaches the top; rebuild when stale slots outnumber live timestamps.
    if (this.times.length > 2 * this.buckets.size + 64) {
      this.times.clear()
      for (const time of this.buckets.keys()) this.times.push(time)
    }
  }
}

import type { Key } from '../state/key-groups.js'

/** A timer of one key: fires once, at `timestamp`, with that key current. */
export interface Timer {
  readonly timestamp: number
  readonly key: Key
  readonly keyGroup: number
}

/**
 * A min-heap of timers by timestamp that holds each (timestamp, key) once, as Flink's
 * HeapPriorityQueueSet: registering the same timer twice keeps one.
 *
 * @example
 * const heap = new TimerHeap(); heap.add({ timestamp: 5, key: 'a', keyGroup: 1 }); heap.peek()?.timestamp // 5
 */
export class TimerHeap {
  private readonly heap: Timer[] = []
  private readonly index = new Map<string, Timer>()

  get size(): number {
    return this.index.size
  }

  add(timer: Timer): boolean {
    const id = idOf(timer.timestamp, timer.key)
    if (this.index.has(id)) return false
    this.index.set(id, timer)
    this.heap.push(timer)
    this.siftUp(this.heap.length - 1)
    return true
  }

  remove(timestamp: number, key: Key): boolean {
    const id = idOf(timestamp, key)
    const timer = this.index.get(id)
    if (timer === undefined) return false
    this.index.delete(id)
    const at = this.heap.indexOf(timer)
    const last = this.heap.pop()!
    if (at < this.heap.length) {
      this.heap[at] = last
      this.siftDown(at)
      this.siftUp(at)
    }
    return true
  }

  peek(): Timer | undefined {
    return this.heap[0]
  }

  poll(): Timer | undefined {
    const top = this.heap[0]
    if (top === undefined) return undefined
    this.index.delete(idOf(top.timestamp, top.key))
    const last = this.heap.pop()!
    if (this.heap.length > 0) {
      this.heap[0] = last
      this.siftDown(0)
    }
    return top
  }

  /** Every timer, in no particular order (for snapshots). */
  values(): IterableIterator<Timer> {
    return this.index.values()
  }

  private siftUp(i: number): void {
    const h = this.heap
    const t = h[i]!
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (h[parent]!.timestamp <= t.timestamp) break
      h[i] = h[parent]!
      i = parent
    }
    h[i] = t
  }

  private siftDown(i: number): void {
    const h = this.heap
    const t = h[i]!
    const n = h.length
    for (;;) {
      let child = 2 * i + 1
      if (child >= n) break
      if (child + 1 < n && h[child + 1]!.timestamp < h[child]!.timestamp) child++
      if (h[child]!.timestamp >= t.timestamp) break
      h[i] = h[child]!
      i = child
    }
    h[i] = t
  }
}

function idOf(timestamp: number, key: Key): string {
  return `${timestamp}\u0000${typeof key}\u0000${String(key)}`
}

import type { Key } from '../state/key-groups.js'

/** The keys waiting for one time, as parallel arrays (no object per key). */
interface DueKeys {
  readonly keys: Key[]
  readonly groups: number[]
}

/**
 * The event-time timers of aligned windows (tumbling, sliding) under the default event-time trigger,
 * kept per window end instead of per key: a min-heap of distinct times, each with the keys that have a
 * window ending then. Registering costs one push per (key, window), firing one heap step per window end
 * however many keys share it (Flink deduplicates timers per key and time; here the window end is shared
 * by every key, so it is the unit).
 *
 * It is not checkpointed: every (key, window) in the operator's contents state has exactly one pending
 * entry here, so the operator rebuilds it from that state on restore.
 *
 * Threading: used by one window operator subtask, inside its mailbox. Bounds: one entry per (key,
 * window) with contents; an entry leaves when its time fires.
 *
 * @example
 * const index = new WindowEndIndex(); index.add(999, 'k', 7)
 * index.fire(1_000, (time, key, group) => emitWindow(time, key, group)) // calls back (999, 'k', 7)
 */
export class WindowEndIndex {
  private readonly due = new Map<number, DueKeys>()
  private readonly times: number[] = []

  /** Number of distinct times waiting. */
  get size(): number {
    return this.times.length
  }

  /** `key` (of key group `group`) has a window that fires at `time`; each (key, time) is added once. */
  add(time: number, key: Key, group: number): void {
    let due = this.due.get(time)
    if (due === undefined) {
      due = { keys: [], groups: [] }
      this.due.set(time, due)
      this.push(time)
    }
    due.keys.push(key)
    due.groups.push(group)
  }

  /** Calls `fire` for every (time, key) at or before `watermark`, in time order; each entry leaves first. */
  fire(watermark: number, fire: (time: number, key: Key, group: number) => void): void {
    const times = this.times
    while (times.length > 0 && times[0]! <= watermark) {
      const time = this.pop()
      const due = this.due.get(time)!
      this.due.delete(time)
      const { keys, groups } = due
      for (let i = 0; i < keys.length; i++) fire(time, keys[i]!, groups[i]!)
    }
  }

  private push(time: number): void {
    const h = this.times
    let i = h.length
    h.push(time)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (h[parent]! <= time) break
      h[i] = h[parent]!
      i = parent
    }
    h[i] = time
  }

  private pop(): number {
    const h = this.times
    const top = h[0]!
    const last = h.pop()!
    const n = h.length
    if (n === 0) return top
    let i = 0
    for (;;) {
      let child = 2 * i + 1
      if (child >= n) break
      if (child + 1 < n && h[child + 1]! < h[child]!) child++
      if (h[child]! >= last) break
      h[i] = h[child]!
      i = child
    }
    h[i] = last
    return top
  }
}

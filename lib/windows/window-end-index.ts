import type { Key } from '../state/key-groups.js'
import { TimeHeap } from '../time/time-heap.js'

/**
 * The keys waiting for one time, as parallel arrays (no object per key). Only the first `count`
 * entries are live: a fired list goes back to a pool with its arrays at full length, so the next
 * window end fills them again instead of growing new ones push by push.
 */
interface DueKeys {
  readonly keys: Key[]
  readonly groups: number[]
  count: number
}

/** Fired lists kept for reuse at most: enough for the window ends a watermark usually passes at once. */
const SPARE_LISTS = 64

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
 * window) with contents; an entry leaves when its time fires. Fired lists are reused (at most
 * {@link SPARE_LISTS}), so a steady stream of window ends allocates nothing here.
 *
 * @example
 * const index = new WindowEndIndex(); index.add(999, 'k', 7)
 * index.fire(1_000, (time, key, group) => emitWindow(time, key, group)) // calls back (999, 'k', 7)
 */
export class WindowEndIndex {
  private readonly due = new Map<number, DueKeys>()
  private readonly times = new TimeHeap()
  private readonly spare: DueKeys[] = []

  /** Number of distinct times waiting. */
  get size(): number {
    return this.times.length
  }

  /** `key` (of key group `group`) has a window that fires at `time`; each (key, time) is added once. */
  add(time: number, key: Key, group: number): void {
    let due = this.due.get(time)
    if (due === undefined) {
      due = this.spare.pop() ?? { keys: [], groups: [], count: 0 }
      this.due.set(time, due)
      this.times.push(time)
    }
    const i = due.count++
    if (i < due.keys.length) {
      due.keys[i] = key
      due.groups[i] = group
    } else {
      due.keys.push(key)
      due.groups.push(group)
    }
  }

  /** Calls `fire` for every (time, key) at or before `watermark`, in time order; each entry leaves first. */
  fire(watermark: number, fire: (time: number, key: Key, group: number) => void): void {
    const times = this.times
    while (times.length > 0 && times.peek()! <= watermark) {
      const time = times.pop()!
      const due = this.due.get(time)!
      this.due.delete(time)
      const { keys, groups, count } = due
      for (let i = 0; i < count; i++) fire(time, keys[i]!, groups[i]!)
      due.count = 0
      if (this.spare.length < SPARE_LISTS) this.spare.push(due)
    }
  }
}

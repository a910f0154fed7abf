import type { Window } from './window.js'

/**
 * A window of event or processing time `[start, end)`: `end` is exclusive, so the last timestamp in it
 * is `end - 1` (Flink's TimeWindow).
 *
 * @example
 * const w = new TimeWindow(0, 5_000)
 * w.maxTimestamp() // 4999
 * w.intersects(new TimeWindow(5_000, 6_000)) // true: touching session windows merge
 */
export class TimeWindow implements Window {
  readonly id: string

  constructor(
    readonly start: number,
    readonly end: number,
  ) {
    this.id = `${start}:${end}`
  }

  maxTimestamp(): number {
    return this.end - 1
  }

  /** Whether the two windows overlap or touch (Flink's test, used to merge sessions). */
  intersects(other: TimeWindow): boolean {
    return this.start <= other.end && this.end >= other.start
  }

  /** The smallest window that covers both. */
  cover(other: TimeWindow): TimeWindow {
    return new TimeWindow(Math.min(this.start, other.start), Math.max(this.end, other.end))
  }

  toString(): string {
    return `TimeWindow[${this.start}, ${this.end})`
  }

  /**
   * The start of the window of `size` that holds `timestamp`, with windows aligned to `offset`
   * (Flink's getWindowStartWithOffset). Correct for negative timestamps too.
   *
   * @example
   * TimeWindow.windowStart(7_300, 0, 1_000) // 7000
   * TimeWindow.windowStart(7_300, 500, 1_000) // 6500
   */
  static windowStart(timestamp: number, offset: number, size: number): number {
    const remainder = (timestamp - offset) % size
    return remainder < 0 ? timestamp - (remainder + size) : timestamp - remainder
  }

  /**
   * Merges overlapping or touching windows (Flink's TimeWindow.mergeWindows): calls `merge` once per
   * group of two or more windows that collapse into one, with the group and the covering window.
   *
   * @example
   * TimeWindow.mergeWindows([new TimeWindow(0, 10), new TimeWindow(5, 20)], (group, into) => console.log(group.length, into.id)) // 2 '0:20'
   */
  static mergeWindows(
    windows: readonly TimeWindow[],
    merge: (toBeMerged: TimeWindow[], mergeResult: TimeWindow) => void,
  ): void {
    const sorted = [...windows].sort((a, b) => a.start - b.start)
    let cover: TimeWindow | undefined
    let group: TimeWindow[] = []
    for (const candidate of sorted) {
      if (cover === undefined) {
        cover = candidate
        group = [candidate]
      } else if (cover.intersects(candidate)) {
        cover = cover.cover(candidate)
        group.push(candidate)
      } else {
        if (group.length > 1) merge(group, cover)
        cover = candidate
        group = [candidate]
      }
    }
    if (cover !== undefined && group.length > 1) merge(group, cover)
  }
}

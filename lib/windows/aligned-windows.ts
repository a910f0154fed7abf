import { TimeWindow } from './time-window.js'
import type { WindowAlignment } from './window-assigner.js'

/**
 * The windows of an aligned assigner computed without allocating per record: records in order share
 * their first window start, so the windows that may hold them are built once per start and reused.
 *
 * Threading: one per window operator subtask.
 *
 * @example
 * const aligned = new AlignedWindows({ sizeMs: 10_000, slideMs: 1_000, offsetMs: 0 })
 * for (const w of aligned.candidates(12_345)) if (w.start > 12_345 - 10_000) add(w) // else stop: older ones do not hold it
 */
export class AlignedWindows {
  private firstStart = Number.NaN
  private windows: TimeWindow[] = []

  constructor(readonly alignment: WindowAlignment) {}

  /**
   * The windows that may hold `timestamp`, newest first (Flink's order): every window starting at the
   * last start at or before `timestamp` and back while it could still hold a timestamp with that last
   * start. The caller stops at the first window whose start is at or before `timestamp - sizeMs`.
   */
  candidates(timestamp: number): readonly TimeWindow[] {
    const { sizeMs, slideMs, offsetMs } = this.alignment
    const first = TimeWindow.windowStart(timestamp, offsetMs, slideMs)
    if (first !== this.firstStart) {
      const windows: TimeWindow[] = []
      for (let start = first; start > first - sizeMs; start -= slideMs)
        windows.push(new TimeWindow(start, start + sizeMs))
      this.windows = windows
      this.firstStart = first
    }
    return this.windows
  }

  /** The window whose largest timestamp is `maxTimestamp`. */
  endingAt(maxTimestamp: number): TimeWindow {
    return new TimeWindow(maxTimestamp + 1 - this.alignment.sizeMs, maxTimestamp + 1)
  }
}

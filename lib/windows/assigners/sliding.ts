import { ConfigError } from '../../errors.js'
import { TimeWindow } from '../time-window.js'
import { EventTimeTrigger } from '../triggers/event-time-trigger.js'
import { ProcessingTimeTrigger } from '../triggers/processing-time-trigger.js'
import type { Trigger } from '../triggers/trigger.js'
import type {
  AlignedWindowAssigner,
  WindowAlignment,
  WindowAssigner,
  WindowAssignerContext,
} from '../window-assigner.js'

/**
 * Windows of `sizeMs` that start every `slideMs`, by record timestamp (Flink's
 * SlidingEventTimeWindows): each record belongs to `ceil(size / slide)` windows. Aligned to the epoch
 * plus `offsetMs`.
 *
 * @example
 * prices.pipe(assignTimestampsAndWatermarks(strategy), keyBy((p) => p.symbol), window(slidingEventTimeWindows(60_000, 10_000)), aggregate(average))
 */
export function slidingEventTimeWindows(
  sizeMs: number,
  slideMs: number,
  offsetMs = 0,
): WindowAssigner<unknown, TimeWindow> {
  return new SlidingWindows('SlidingEventTimeWindows', 'event-time', sizeMs, slideMs, offsetMs)
}

/**
 * Windows of `sizeMs` of wall-clock time that start every `slideMs` (Flink's
 * SlidingProcessingTimeWindows).
 *
 * @example
 * requests.pipe(keyBy((r) => r.route), window(slidingProcessingTimeWindows(10_000, 1_000)), aggregate(countRequests))
 */
export function slidingProcessingTimeWindows(
  sizeMs: number,
  slideMs: number,
  offsetMs = 0,
): WindowAssigner<unknown, TimeWindow> {
  return new SlidingWindows('SlidingProcessingTimeWindows', 'processing-time', sizeMs, slideMs, offsetMs)
}

class SlidingWindows implements AlignedWindowAssigner<unknown, TimeWindow> {
  readonly name: string
  readonly alignment: WindowAlignment

  constructor(
    kind: string,
    readonly timeDomain: 'event-time' | 'processing-time',
    readonly sizeMs: number,
    readonly slideMs: number,
    readonly offsetMs: number,
  ) {
    if (!Number.isInteger(sizeMs) || sizeMs < 1)
      throw new ConfigError(`${kind}.size`, sizeMs, 'a whole number of milliseconds of at least 1')
    if (!Number.isInteger(slideMs) || slideMs < 1)
      throw new ConfigError(`${kind}.slide`, slideMs, 'a whole number of milliseconds of at least 1')
    if (!Number.isInteger(offsetMs) || Math.abs(offsetMs) >= slideMs)
      throw new ConfigError(
        `${kind}.offset`,
        offsetMs,
        `a whole number of milliseconds with abs(offset) < slide (${slideMs})`,
      )
    this.name = `${kind}(${sizeMs}, ${slideMs}${offsetMs === 0 ? '' : `, ${offsetMs}`})`
    this.alignment = { sizeMs, slideMs, offsetMs }
  }

  assignWindows(_value: unknown, timestamp: number | undefined, ctx: WindowAssignerContext): TimeWindow[] {
    const time = this.timeDomain === 'event-time' ? (timestamp as number) : ctx.currentProcessingTime()
    const windows: TimeWindow[] = []
    // Newest window first, as Flink: from the last start at or before `time` back while the window still holds `time`.
    for (
      let start = TimeWindow.windowStart(time, this.offsetMs, this.slideMs);
      start > time - this.sizeMs;
      start -= this.slideMs
    ) {
      windows.push(new TimeWindow(start, start + this.sizeMs))
    }
    return windows
  }

  defaultTrigger(): Trigger<unknown, TimeWindow> {
    return this.timeDomain === 'event-time' ? EventTimeTrigger.create() : ProcessingTimeTrigger.create()
  }
}

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
 * Back-to-back windows of `sizeMs` by record timestamp (Flink's TumblingEventTimeWindows). Windows are
 * aligned to the epoch plus `offsetMs`: with size one day and offset -8 hours, days start at 08:00 UTC.
 *
 * @example
 * readings.pipe(assignTimestampsAndWatermarks(strategy), keyBy((r) => r.sensor), window(tumblingEventTimeWindows(60_000)), reduce(max))
 */
export function tumblingEventTimeWindows(sizeMs: number, offsetMs = 0): WindowAssigner<unknown, TimeWindow> {
  return new TumblingWindows('TumblingEventTimeWindows', 'event-time', sizeMs, offsetMs)
}

/**
 * Back-to-back windows of `sizeMs` of wall-clock time (Flink's TumblingProcessingTimeWindows), aligned
 * to the epoch plus `offsetMs`. Records need no timestamps.
 *
 * @example
 * requests.pipe(keyBy((r) => r.route), window(tumblingProcessingTimeWindows(1_000)), aggregate(countRequests))
 */
export function tumblingProcessingTimeWindows(sizeMs: number, offsetMs = 0): WindowAssigner<unknown, TimeWindow> {
  return new TumblingWindows('TumblingProcessingTimeWindows', 'processing-time', sizeMs, offsetMs)
}

class TumblingWindows implements AlignedWindowAssigner<unknown, TimeWindow> {
  readonly name: string
  readonly alignment: WindowAlignment

  constructor(
    kind: string,
    readonly timeDomain: 'event-time' | 'processing-time',
    readonly sizeMs: number,
    readonly offsetMs: number,
  ) {
    if (!Number.isInteger(sizeMs) || sizeMs < 1)
      throw new ConfigError(`${kind}.size`, sizeMs, 'a whole number of milliseconds of at least 1')
    if (!Number.isInteger(offsetMs) || Math.abs(offsetMs) >= sizeMs)
      throw new ConfigError(
        `${kind}.offset`,
        offsetMs,
        `a whole number of milliseconds with abs(offset) < size (${sizeMs})`,
      )
    this.name = offsetMs === 0 ? `${kind}(${sizeMs})` : `${kind}(${sizeMs}, ${offsetMs})`
    this.alignment = { sizeMs, slideMs: sizeMs, offsetMs }
  }

  assignWindows(_value: unknown, timestamp: number | undefined, ctx: WindowAssignerContext): TimeWindow[] {
    const time = this.timeDomain === 'event-time' ? (timestamp as number) : ctx.currentProcessingTime()
    const start = TimeWindow.windowStart(time, this.offsetMs, this.sizeMs)
    return [new TimeWindow(start, start + this.sizeMs)]
  }

  defaultTrigger(): Trigger<unknown, TimeWindow> {
    return this.timeDomain === 'event-time' ? EventTimeTrigger.create() : ProcessingTimeTrigger.create()
  }
}

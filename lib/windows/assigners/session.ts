import { ConfigError } from '../../errors.js'
import { TimeWindow } from '../time-window.js'
import { EventTimeTrigger } from '../triggers/event-time-trigger.js'
import { ProcessingTimeTrigger } from '../triggers/processing-time-trigger.js'
import type { Trigger } from '../triggers/trigger.js'
import type { MergingWindowAssigner, SessionWindowAssigner, WindowAssignerContext } from '../window-assigner.js'

/**
 * Sessions by record timestamp (Flink's EventTimeSessionWindows): a record opens the window
 * `[timestamp, timestamp + gapMs)`, and windows that overlap or touch merge, so a session ends after
 * `gapMs` without records. `eventTimeSessionWindows.withDynamicGap(fn)` takes the gap from each record.
 *
 * @example
 * clicks.pipe(assignTimestampsAndWatermarks(strategy), keyBy((c) => c.user), window(eventTimeSessionWindows(30 * 60_000)), process(summarise))
 * window(eventTimeSessionWindows.withDynamicGap((c: Click) => (c.premium ? 60_000 : 10_000)))
 */
export function eventTimeSessionWindows(gapMs: number): MergingWindowAssigner<unknown, TimeWindow> {
  return new SessionWindows(
    'EventTimeSessionWindows',
    'event-time',
    staticGap('EventTimeSessionWindows', gapMs),
    String(gapMs),
  )
}

/**
 * Event-time sessions whose gap each record gives (Flink's EventTimeSessionWindows.withDynamicGap).
 *
 * @example
 * window(eventTimeSessionWindows.withDynamicGap((e: Event) => e.timeoutMs))
 */
eventTimeSessionWindows.withDynamicGap = function withDynamicGap<T>(
  gapOf: (value: T) => number,
): MergingWindowAssigner<T, TimeWindow> {
  return new SessionWindows(
    'EventTimeSessionWindows',
    'event-time',
    dynamicGap('EventTimeSessionWindows.withDynamicGap', gapOf),
    'dynamic',
  )
}

/**
 * Sessions of wall-clock time (Flink's ProcessingTimeSessionWindows): a session ends after `gapMs` of
 * processing time without records. `processingTimeSessionWindows.withDynamicGap(fn)` takes the gap
 * from each record.
 *
 * @example
 * messages.pipe(keyBy((m) => m.chat), window(processingTimeSessionWindows(5_000)), process(summarise))
 */
export function processingTimeSessionWindows(gapMs: number): MergingWindowAssigner<unknown, TimeWindow> {
  return new SessionWindows(
    'ProcessingTimeSessionWindows',
    'processing-time',
    staticGap('ProcessingTimeSessionWindows', gapMs),
    String(gapMs),
  )
}

/**
 * Processing-time sessions whose gap each record gives.
 *
 * @example
 * window(processingTimeSessionWindows.withDynamicGap((m: Msg) => m.timeoutMs))
 */
processingTimeSessionWindows.withDynamicGap = function withDynamicGap<T>(
  gapOf: (value: T) => number,
): MergingWindowAssigner<T, TimeWindow> {
  return new SessionWindows(
    'ProcessingTimeSessionWindows',
    'processing-time',
    dynamicGap('ProcessingTimeSessionWindows.withDynamicGap', gapOf),
    'dynamic',
  )
}

function staticGap(kind: string, gapMs: number): () => number {
  if (!Number.isInteger(gapMs) || gapMs < 1)
    throw new ConfigError(`${kind}.gap`, gapMs, 'a whole number of milliseconds of at least 1')
  return () => gapMs
}

function dynamicGap<T>(kind: string, gapOf: (value: T) => number): (value: T) => number {
  if (typeof gapOf !== 'function') throw new ConfigError(kind, gapOf, 'a function record => gap in milliseconds')
  return (value) => {
    const gap = gapOf(value)
    if (!(Number.isFinite(gap) && gap > 0))
      throw new RangeError(`${kind}: the session gap must be a positive number of milliseconds, got ${gap}`)
    return gap
  }
}

class SessionWindows<T> implements SessionWindowAssigner<T> {
  readonly name: string

  constructor(
    kind: string,
    readonly timeDomain: 'event-time' | 'processing-time',
    readonly sessionGap: (value: T) => number,
    gapText: string,
  ) {
    this.name = `${kind}(${gapText})`
  }

  assignWindows(value: T, timestamp: number | undefined, ctx: WindowAssignerContext): TimeWindow[] {
    const start = this.timeDomain === 'event-time' ? (timestamp as number) : ctx.currentProcessingTime()
    return [new TimeWindow(start, start + this.sessionGap(value))]
  }

  mergeWindows(
    windows: readonly TimeWindow[],
    merge: (toBeMerged: TimeWindow[], mergeResult: TimeWindow) => void,
  ): void {
    TimeWindow.mergeWindows(windows, merge)
  }

  defaultTrigger(): Trigger<T, TimeWindow> {
    return this.timeDomain === 'event-time' ? EventTimeTrigger.create() : ProcessingTimeTrigger.create()
  }
}

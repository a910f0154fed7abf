import { ConfigError } from '../../errors.js'
import type { Window } from '../window.js'
import type { Evictor, EvictorContext, TimestampedValue } from './evictor.js'

/**
 * Keeps the records within `windowSizeMs` of the newest record's timestamp (Flink's TimeEvictor):
 * a record with timestamp `<= newest - windowSizeMs` is evicted. Windows of records without
 * timestamps are left alone. By default it evicts before the window function runs.
 *
 * @example
 * window(globalWindows(), { trigger: CountTrigger.of(10), evictor: TimeEvictor.of(60_000) }) // every 10 records, the last minute
 */
export class TimeEvictor implements Evictor<unknown, Window> {
  readonly name: string

  constructor(
    readonly windowSizeMs: number,
    readonly doEvictAfter = false,
  ) {
    if (!Number.isFinite(windowSizeMs) || windowSizeMs < 0)
      throw new ConfigError('TimeEvictor.windowSizeMs', windowSizeMs, 'a number of milliseconds of at least 0')
    this.name = `TimeEvictor(${windowSizeMs})`
  }

  static of(windowSizeMs: number, doEvictAfter = false): TimeEvictor {
    return new TimeEvictor(windowSizeMs, doEvictAfter)
  }

  evictBefore(elements: TimestampedValue<unknown>[], _size: number, _window: Window, _ctx: EvictorContext): void {
    if (!this.doEvictAfter) this.evict(elements)
  }

  evictAfter(elements: TimestampedValue<unknown>[], _size: number, _window: Window, _ctx: EvictorContext): void {
    if (this.doEvictAfter) this.evict(elements)
  }

  private evict(elements: TimestampedValue<unknown>[]): void {
    if (elements.length === 0 || elements[0]!.timestamp === undefined) return
    let newest = -Infinity
    for (const e of elements) if (e.timestamp !== undefined && e.timestamp > newest) newest = e.timestamp
    const cutoff = newest - this.windowSizeMs
    let kept = 0
    for (const e of elements) if (e.timestamp === undefined || e.timestamp > cutoff) elements[kept++] = e
    elements.length = kept
  }
}

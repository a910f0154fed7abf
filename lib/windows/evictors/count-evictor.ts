import { ConfigError } from '../../errors.js'
import type { Window } from '../window.js'
import type { Evictor, EvictorContext, TimestampedValue } from './evictor.js'

/**
 * Keeps the newest `maxCount` records of a window (Flink's CountEvictor); by default it evicts before
 * the window function runs. With a count trigger of `slide`, it makes sliding count windows.
 *
 * @example
 * window(globalWindows(), { trigger: CountTrigger.of(2), evictor: CountEvictor.of(5) }) // last 5, every 2
 */
export class CountEvictor implements Evictor<unknown, Window> {
  readonly name: string

  constructor(
    readonly maxCount: number,
    readonly doEvictAfter = false,
  ) {
    if (!Number.isInteger(maxCount) || maxCount < 1)
      throw new ConfigError('CountEvictor.maxCount', maxCount, 'a whole number of at least 1')
    this.name = `CountEvictor(${maxCount})`
  }

  static of(maxCount: number, doEvictAfter = false): CountEvictor {
    return new CountEvictor(maxCount, doEvictAfter)
  }

  evictBefore(elements: TimestampedValue<unknown>[], size: number, _window: Window, _ctx: EvictorContext): void {
    if (!this.doEvictAfter) this.evict(elements, size)
  }

  evictAfter(elements: TimestampedValue<unknown>[], size: number, _window: Window, _ctx: EvictorContext): void {
    if (this.doEvictAfter) this.evict(elements, size)
  }

  private evict(elements: TimestampedValue<unknown>[], size: number): void {
    if (size > this.maxCount) elements.splice(0, size - this.maxCount)
  }
}

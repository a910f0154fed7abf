import { ConfigError } from '../../errors.js'
import type { Window } from '../window.js'
import { type OnMergeContext, type Trigger, type TriggerContext, TriggerResult, isFire } from './trigger.js'

/**
 * Turns every FIRE of another trigger into FIRE_AND_PURGE (Flink's PurgingTrigger): the window starts
 * empty after each evaluation.
 *
 * @example
 * window(globalWindows(), { trigger: PurgingTrigger.of(CountTrigger.of(3)) }) // tumbling windows of 3 records
 */
export class PurgingTrigger<T, W extends Window> implements Trigger<T, W> {
  readonly name: string
  readonly canMerge: boolean

  constructor(readonly nested: Trigger<T, W>) {
    if (typeof nested?.onElement !== 'function') throw new ConfigError('PurgingTrigger.of', nested, 'a Trigger')
    this.name = `PurgingTrigger(${nested.name})`
    this.canMerge = nested.canMerge
  }

  static of<T, W extends Window>(nested: Trigger<T, W>): PurgingTrigger<T, W> {
    return new PurgingTrigger(nested)
  }

  onElement(element: T, timestamp: number | undefined, window: W, ctx: TriggerContext): TriggerResult {
    return purging(this.nested.onElement(element, timestamp, window, ctx))
  }

  onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult {
    return purging(this.nested.onEventTime(time, window, ctx))
  }

  onProcessingTime(time: number, window: W, ctx: TriggerContext): TriggerResult {
    return purging(this.nested.onProcessingTime(time, window, ctx))
  }

  onMerge(window: W, ctx: OnMergeContext<W>): void {
    this.nested.onMerge?.(window, ctx)
  }

  clear(window: W, ctx: TriggerContext): void {
    this.nested.clear(window, ctx)
  }
}

function purging(result: TriggerResult): TriggerResult {
  return isFire(result) ? TriggerResult.FIRE_AND_PURGE : result
}

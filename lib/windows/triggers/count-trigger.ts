import { ConfigError } from '../../errors.js'
import type { Window } from '../window.js'
import { type OnMergeContext, type Trigger, type TriggerContext, TriggerResult } from './trigger.js'

const COUNT = 'count'
const add = (a: number, b: number): number => a + b

/**
 * Fires a window every `maxCount` records (Flink's CountTrigger). It never purges: wrap it in a
 * {@link PurgingTrigger} for tumbling count windows.
 *
 * @example
 * window(globalWindows(), { trigger: PurgingTrigger.of(CountTrigger.of(100)) }) // batches of 100
 */
export class CountTrigger implements Trigger<unknown, Window> {
  readonly name: string
  readonly canMerge = true

  constructor(readonly maxCount: number) {
    if (!Number.isInteger(maxCount) || maxCount < 1)
      throw new ConfigError('CountTrigger.maxCount', maxCount, 'a whole number of at least 1')
    this.name = `CountTrigger(${maxCount})`
  }

  static of(maxCount: number): CountTrigger {
    return new CountTrigger(maxCount)
  }

  onElement(_element: unknown, _timestamp: number | undefined, _window: Window, ctx: TriggerContext): TriggerResult {
    const count = ctx.getState<number>(COUNT)
    const seen = (count.value() ?? 0) + 1
    if (seen >= this.maxCount) {
      count.clear()
      return TriggerResult.FIRE
    }
    count.update(seen)
    return TriggerResult.CONTINUE
  }

  onEventTime(_time: number, _window: Window, _ctx: TriggerContext): TriggerResult {
    return TriggerResult.CONTINUE
  }

  onProcessingTime(_time: number, _window: Window, _ctx: TriggerContext): TriggerResult {
    return TriggerResult.CONTINUE
  }

  onMerge(_window: Window, ctx: OnMergeContext<Window>): void {
    ctx.mergeState<number>(COUNT, add)
  }

  clear(_window: Window, ctx: TriggerContext): void {
    ctx.getState<number>(COUNT).clear()
  }
}

import type { Window } from '../window.js'
import { type OnMergeContext, type Trigger, type TriggerContext, TriggerResult } from './trigger.js'

/**
 * Never fires (Flink's GlobalWindows.NeverTrigger): the default trigger of global windows, which have
 * no end. Give global windows a trigger of your own, e.g. a {@link CountTrigger}.
 *
 * @example
 * window(globalWindows(), { trigger: CountTrigger.of(10) }) // replaces the NeverTrigger
 */
export class NeverTrigger implements Trigger<unknown, Window> {
  private static readonly shared = new NeverTrigger()
  readonly name = 'NeverTrigger'
  readonly canMerge = true

  static create(): NeverTrigger {
    return NeverTrigger.shared
  }

  onElement(_element: unknown, _timestamp: number | undefined, _window: Window, _ctx: TriggerContext): TriggerResult {
    return TriggerResult.CONTINUE
  }

  onEventTime(_time: number, _window: Window, _ctx: TriggerContext): TriggerResult {
    return TriggerResult.CONTINUE
  }

  onProcessingTime(_time: number, _window: Window, _ctx: TriggerContext): TriggerResult {
    return TriggerResult.CONTINUE
  }

  onMerge(_window: Window, _ctx: OnMergeContext<Window>): void {}

  clear(_window: Window, _ctx: TriggerContext): void {}
}

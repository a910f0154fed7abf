import type { Window } from '../window.js'
import { type Trigger, TriggerResult } from './trigger.js'

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

  onElement(): TriggerResult {
    return TriggerResult.CONTINUE
  }

  onEventTime(): TriggerResult {
    return TriggerResult.CONTINUE
  }

  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE
  }

  onMerge(): void {}

  clear(): void {}
}

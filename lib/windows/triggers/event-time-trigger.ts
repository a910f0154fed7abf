import type { Window } from '../window.js'
import { type OnMergeContext, type Trigger, type TriggerContext, TriggerResult } from './trigger.js'

/**
 * Fires a window once the watermark passes its end, and again for every late record within the
 * allowed lateness (Flink's EventTimeTrigger). The default trigger of event-time windows.
 *
 * @example
 * window(tumblingEventTimeWindows(1_000), { trigger: EventTimeTrigger.create() })
 */
export class EventTimeTrigger implements Trigger<unknown, Window> {
  private static readonly shared = new EventTimeTrigger()
  readonly name = 'EventTimeTrigger'
  readonly canMerge = true

  static create(): EventTimeTrigger {
    return EventTimeTrigger.shared
  }

  onElement(_element: unknown, _timestamp: number | undefined, window: Window, ctx: TriggerContext): TriggerResult {
    // The watermark is already past the window: this is a late record within the allowed lateness.
    if (window.maxTimestamp() <= ctx.currentWatermark()) return TriggerResult.FIRE
    ctx.registerEventTimeTimer(window.maxTimestamp())
    return TriggerResult.CONTINUE
  }

  onEventTime(time: number, window: Window, _ctx: TriggerContext): TriggerResult {
    return time === window.maxTimestamp() ? TriggerResult.FIRE : TriggerResult.CONTINUE
  }

  onProcessingTime(_time: number, _window: Window, _ctx: TriggerContext): TriggerResult {
    return TriggerResult.CONTINUE
  }

  onMerge(window: Window, ctx: OnMergeContext<Window>): void {
    // A merged window that is already complete fires on the element that caused the merge instead.
    if (window.maxTimestamp() > ctx.currentWatermark()) ctx.registerEventTimeTimer(window.maxTimestamp())
  }

  clear(window: Window, ctx: TriggerContext): void {
    ctx.deleteEventTimeTimer(window.maxTimestamp())
  }
}

import type { Window } from '../window.js'
import { type OnMergeContext, type Trigger, type TriggerContext, TriggerResult } from './trigger.js'

/**
 * Fires a window when the wall clock passes its end (Flink's ProcessingTimeTrigger). The default
 * trigger of processing-time windows.
 *
 * @example
 * window(tumblingProcessingTimeWindows(1_000), { trigger: ProcessingTimeTrigger.create() })
 */
export class ProcessingTimeTrigger implements Trigger<unknown, Window> {
  private static readonly shared = new ProcessingTimeTrigger()
  readonly name = 'ProcessingTimeTrigger'
  readonly canMerge = true

  static create(): ProcessingTimeTrigger {
    return ProcessingTimeTrigger.shared
  }

  onElement(_element: unknown, _timestamp: number | undefined, window: Window, ctx: TriggerContext): TriggerResult {
    ctx.registerProcessingTimeTimer(window.maxTimestamp())
    return TriggerResult.CONTINUE
  }

  onEventTime(_time: number, _window: Window, _ctx: TriggerContext): TriggerResult {
    return TriggerResult.CONTINUE
  }

  onProcessingTime(_time: number, _window: Window, _ctx: TriggerContext): TriggerResult {
    return TriggerResult.FIRE
  }

  onMerge(window: Window, ctx: OnMergeContext<Window>): void {
    if (window.maxTimestamp() > ctx.currentProcessingTime()) ctx.registerProcessingTimeTimer(window.maxTimestamp())
  }

  clear(window: Window, ctx: TriggerContext): void {
    ctx.deleteProcessingTimeTimer(window.maxTimestamp())
  }
}

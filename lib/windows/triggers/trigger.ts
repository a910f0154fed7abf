import type { Window } from '../window.js'

/**
 * What a trigger decides for a window (Flink's TriggerResult): `FIRE` evaluates the window and keeps
 * its contents, `PURGE` drops the contents, `FIRE_AND_PURGE` does both, `CONTINUE` does nothing.
 */
export type TriggerResult = 'CONTINUE' | 'FIRE' | 'PURGE' | 'FIRE_AND_PURGE'

/**
 * The trigger results as constants.
 *
 * @example
 * return count >= 10 ? TriggerResult.FIRE : TriggerResult.CONTINUE
 */
export const TriggerResult = {
  CONTINUE: 'CONTINUE',
  FIRE: 'FIRE',
  PURGE: 'PURGE',
  FIRE_AND_PURGE: 'FIRE_AND_PURGE',
} as const satisfies Record<TriggerResult, TriggerResult>

/**
 * Whether a result evaluates the window.
 *
 * @example
 * isFire(TriggerResult.FIRE_AND_PURGE) // true
 */
export function isFire(result: TriggerResult): boolean {
  return result === 'FIRE' || result === 'FIRE_AND_PURGE'
}

/**
 * Whether a result drops the window's contents.
 *
 * @example
 * isPurge(TriggerResult.FIRE) // false
 */
export function isPurge(result: TriggerResult): boolean {
  return result === 'PURGE' || result === 'FIRE_AND_PURGE'
}

/** A value kept for the current key and window (Flink's window-scoped partitioned state). */
export interface WindowValueState<T> {
  value(): T | undefined
  update(value: T): void
  clear(): void
}

/**
 * What a trigger can reach (Flink's Trigger.TriggerContext): the clocks, timers and state of the
 * current key and window. Timers fire `onEventTime` / `onProcessingTime` for that window.
 */
export interface TriggerContext {
  currentProcessingTime(): number
  currentWatermark(): number
  registerEventTimeTimer(time: number): void
  registerProcessingTimeTimer(time: number): void
  deleteEventTimeTimer(time: number): void
  deleteProcessingTimeTimer(time: number): void
  /** State of the current key and window under `name`; the trigger clears it in `clear`. */
  getState<T>(name: string): WindowValueState<T>
}

/** The context of `onMerge`: the window is the merge result; `mergedWindows` are the windows it replaces. */
export interface OnMergeContext<W extends Window> extends TriggerContext {
  readonly mergedWindows: readonly W[]
  /** Folds the state `name` of the merged windows into the merge result's (Flink's mergePartitionedState). */
  mergeState<T>(name: string, merge: (a: T, b: T) => T): void
}

/**
 * Decides when a window is evaluated and when it is purged (Flink's Trigger). A trigger object is
 * shared by all keys and subtasks: it keeps its per-window state in the context, never in fields.
 *
 * @example
 * const fireOnBigOrder: Trigger<Order, TimeWindow> = {
 *   name: 'big-order', canMerge: false,
 *   onElement: (o, _ts, w, ctx) => { ctx.registerEventTimeTimer(w.maxTimestamp()); return o.total > 1000 ? 'FIRE' : 'CONTINUE' },
 *   onEventTime: (time, w) => (time === w.maxTimestamp() ? 'FIRE' : 'CONTINUE'),
 *   onProcessingTime: () => 'CONTINUE',
 *   clear: (w, ctx) => ctx.deleteEventTimeTimer(w.maxTimestamp()),
 * }
 */
export interface Trigger<T, W extends Window> {
  /** Shown in the window operator's name. */
  readonly name: string
  onElement(element: T, timestamp: number | undefined, window: W, ctx: TriggerContext): TriggerResult
  onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult
  onProcessingTime(time: number, window: W, ctx: TriggerContext): TriggerResult
  /** Whether the trigger works with merging (session) windows; then it must have `onMerge`. */
  readonly canMerge: boolean
  onMerge?(window: W, ctx: OnMergeContext<W>): void
  /** The window is gone: delete its timers and state. */
  clear(window: W, ctx: TriggerContext): void
}

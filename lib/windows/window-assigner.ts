import type { TimeWindow } from './time-window.js'
import type { Trigger } from './triggers/trigger.js'
import type { Window } from './window.js'

/** What an assigner can read besides the record. */
export interface WindowAssignerContext {
  currentProcessingTime(): number
}

/**
 * Puts each record into zero or more windows (Flink's WindowAssigner) and names the trigger that fires
 * them unless the user gives another. Assigners are shared by all keys and subtasks: no mutable fields.
 *
 * @example
 * const hourly: WindowAssigner<unknown, TimeWindow> = tumblingEventTimeWindows(3_600_000)
 */
export interface WindowAssigner<T, W extends Window> {
  /** Shown in the window operator's name, e.g. `TumblingEventTimeWindows(1000)`. */
  readonly name: string
  /**
   * Which clock bounds the windows: `event-time` windows use record timestamps, watermarks and allowed
   * lateness; `processing-time` windows use the wall clock and fire what is left at the end of input;
   * `undefined` for windows no clock ends (global windows).
   */
  readonly timeDomain: 'event-time' | 'processing-time' | undefined
  /** The windows of one record; `timestamp` is defined for event-time assigners. */
  assignWindows(value: T, timestamp: number | undefined, ctx: WindowAssignerContext): readonly W[]
  defaultTrigger(): Trigger<T, W>
}

/**
 * An assigner whose windows grow together (sessions; Flink's MergingWindowAssigner).
 *
 * @example
 * const sessions: MergingWindowAssigner<unknown, TimeWindow> = eventTimeSessionWindows(30 * 60_000)
 */
export interface MergingWindowAssigner<T, W extends Window> extends WindowAssigner<T, W> {
  /** Calls `merge` once per group of windows that become one, with the window they become. */
  mergeWindows(windows: readonly W[], merge: (toBeMerged: W[], mergeResult: W) => void): void
}

/**
 * Whether an assigner merges windows.
 *
 * @example
 * isMergingAssigner(eventTimeSessionWindows(1_000)) // true
 */
export function isMergingAssigner<T, W extends Window>(
  assigner: WindowAssigner<T, W>,
): assigner is MergingWindowAssigner<T, W> {
  return typeof (assigner as Partial<MergingWindowAssigner<T, W>>).mergeWindows === 'function'
}

/** Fixed-size windows aligned to the epoch plus an offset, one starting every `slideMs` (tumbling: slide = size). */
export interface WindowAlignment {
  readonly sizeMs: number
  readonly slideMs: number
  readonly offsetMs: number
}

/**
 * An assigner whose windows are a function of the timestamp alone (tumbling and sliding): the window
 * operator then computes the windows itself and fires them per window end rather than per key.
 *
 * @example
 * const hourly: AlignedWindowAssigner<unknown, TimeWindow> = tumblingEventTimeWindows(3_600_000) as AlignedWindowAssigner<unknown, TimeWindow>
 */
export interface AlignedWindowAssigner<T, W extends Window> extends WindowAssigner<T, W> {
  readonly alignment: WindowAlignment
}

/**
 * Whether an assigner's windows are aligned (see {@link AlignedWindowAssigner}).
 *
 * @example
 * isAlignedAssigner(slidingEventTimeWindows(10_000, 1_000)) // true
 */
export function isAlignedAssigner<T, W extends Window>(
  assigner: WindowAssigner<T, W>,
): assigner is AlignedWindowAssigner<T, W> {
  return (assigner as Partial<AlignedWindowAssigner<T, W>>).alignment !== undefined
}

/**
 * A session assigner (Flink's session windows): the window of a record at time `t` is
 * `[t, t + sessionGap(record))`, and windows that overlap or touch merge. The window operator then
 * keeps each key's sessions itself instead of a general merging window set.
 *
 * @example
 * const sessions: SessionWindowAssigner<unknown> = eventTimeSessionWindows(30 * 60_000) as SessionWindowAssigner<unknown>
 */
export interface SessionWindowAssigner<T> extends MergingWindowAssigner<T, TimeWindow> {
  /** The gap of a record's session, in milliseconds. */
  readonly sessionGap: (value: T) => number
}

/**
 * Whether an assigner makes sessions (see {@link SessionWindowAssigner}).
 *
 * @example
 * isSessionAssigner(eventTimeSessionWindows(1_000)) // true
 */
export function isSessionAssigner<T, W extends Window>(
  assigner: WindowAssigner<T, W>,
): assigner is WindowAssigner<T, W> & SessionWindowAssigner<T> {
  return typeof (assigner as { sessionGap?: unknown }).sessionGap === 'function'
}

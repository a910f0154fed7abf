/**
 * The end of time for windows: Flink's `Long.MAX_VALUE`. A window whose cleanup time reaches it (a
 * global window) is never cleaned up by a timer. `Number.MAX_SAFE_INTEGER` rather than `Infinity`, so
 * a record stamped with it is still an ordinary timestamp.
 */
export const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER

/**
 * A bucket of records that is evaluated together (Flink's Window). `id` names it in keyed state and
 * timers: two windows are the same window exactly when their ids are equal.
 *
 * @example
 * const w: Window = new TimeWindow(0, 1_000) // w.id === '0:1000', w.maxTimestamp() === 999
 */
export interface Window {
  readonly id: string
  /** The largest timestamp that still belongs to the window; results are stamped with it. */
  maxTimestamp(): number
}

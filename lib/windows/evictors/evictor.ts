import type { Window } from '../window.js'

/** A record in a window, with its timestamp (Flink's TimestampedValue). */
export interface TimestampedValue<T> {
  readonly value: T
  readonly timestamp: number | undefined
}

/** What an evictor can read besides the window's records. */
export interface EvictorContext {
  readonly currentProcessingTime: number
  readonly currentWatermark: number
}

/**
 * Removes records from a window before and/or after the window function runs (Flink's Evictor). An
 * evictor removes records *in place* from `elements` (e.g. with `splice`); the records left are the
 * window's contents from then on. A window with an evictor keeps every record, as Flink does, since
 * a reduced value cannot be un-reduced.
 *
 * @example
 * const keepLast5: Evictor<unknown, Window> = {
 *   name: 'keep-last-5',
 *   evictBefore: (elements) => { if (elements.length > 5) elements.splice(0, elements.length - 5) },
 *   evictAfter: () => {},
 * }
 */
export interface Evictor<T, W extends Window> {
  /** Shown in the window operator's name. */
  readonly name: string
  evictBefore(elements: TimestampedValue<T>[], size: number, window: W, ctx: EvictorContext): void
  evictAfter(elements: TimestampedValue<T>[], size: number, window: W, ctx: EvictorContext): void
}

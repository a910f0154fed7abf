import type { Collector, RuntimeContext } from '../operators/process-function.js'
import type { OutputTag } from '../runtime/output-tag.js'
import type { ValueStateDescriptor } from '../state/descriptors.js'
import type { Key } from '../state/key-groups.js'
import type { WindowValueState } from './triggers/trigger.js'
import type { Window } from './window.js'

/** Keyed state of the current key across all its windows (Flink's ProcessWindowFunction globalState). */
export type KeyedStateStore = Pick<
  RuntimeContext,
  'getState' | 'getListState' | 'getMapState' | 'getReducingState' | 'getAggregatingState'
>

/**
 * State of the current key *and window* (Flink's windowState): useful across the firings of one
 * window (early and late firings). It is deleted with the window, when its allowed lateness has
 * passed. Not available with merging (session) windows, as in Flink.
 */
export interface WindowStateStore {
  getState<T>(descriptor: ValueStateDescriptor<T>): WindowValueState<T>
}

/** What a process window function sees besides the window's records. */
export interface ProcessWindowContext<W extends Window> {
  readonly window: W
  readonly currentWatermark: number
  readonly currentProcessingTime: number
  readonly windowState: WindowStateStore
  readonly globalState: KeyedStateStore
  /** Emits to a side output, stamped with the window's max timestamp. */
  output<X>(tag: OutputTag<X>, value: X): void
}

/**
 * The plain-function form of a process window function. `elements` is the window's contents: read it,
 * do not keep it (the next firing of the same window may hand over the same array).
 */
export type ProcessWindowCallback<IN, OUT, W extends Window = Window> = (
  key: Key,
  context: ProcessWindowContext<W>,
  elements: IN[],
  out: Collector<OUT>,
) => void

/** The object form of a process window function, with lifecycle hooks. */
export interface ProcessWindowFunctionObject<IN, OUT, W extends Window = Window> {
  open?(runtime: RuntimeContext): void
  process(key: Key, context: ProcessWindowContext<W>, elements: IN[], out: Collector<OUT>): void
  /** The window is gone, after its allowed lateness; state in `context.windowState` is deleted after this. */
  clear?(key: Key, context: ProcessWindowContext<W>): void
  close?(): void
}

/**
 * Evaluates a window with all its records at once (Flink's ProcessWindowFunction). For windows of
 * non-keyed streams, `key` is the one constant key they are grouped under.
 *
 * @example
 * const summary: ProcessWindowFunction<Click, string, TimeWindow> = (user, ctx, clicks, out) =>
 *   out.collect(`${user}: ${clicks.length} clicks in [${ctx.window.start}, ${ctx.window.end})`)
 */
export type ProcessWindowFunction<IN, OUT, W extends Window = Window> =
  | ProcessWindowFunctionObject<IN, OUT, W>
  | ProcessWindowCallback<IN, OUT, W>

/**
 * Turns the single result of a windowed reduce or aggregate into the output, with the key and window
 * it belongs to (Flink's reduce/aggregate with a WindowFunction, simplified to one output).
 *
 * @example
 * const withWindow: WindowFunction<number, { user: Key; end: number; total: number }, TimeWindow> =
 *   (user, window, total) => ({ user, end: window.end, total })
 */
export type WindowFunction<R, OUT, W extends Window = Window> = (key: Key, window: W, result: R) => OUT

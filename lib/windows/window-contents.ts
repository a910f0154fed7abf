import type { Collector, RuntimeContext } from '../operators/process-function.js'
import type { AggregateFunction } from '../state/descriptors.js'
import type { Key } from '../state/key-groups.js'
import type { Evictor, TimestampedValue } from './evictors/evictor.js'
import type { ProcessWindowContext, ProcessWindowFunctionObject, WindowFunction } from './process-window-function.js'
import type { Window } from './window.js'

/** The function a windowed stream ends in, as the window operator needs it. */
export type WindowFunctionSpec<IN, OUT, W extends Window> =
  | {
      readonly kind: 'reduce'
      readonly reduce: (a: IN, b: IN) => IN
      readonly windowFunction: WindowFunction<IN, OUT, W> | undefined
    }
  | {
      readonly kind: 'aggregate'
      readonly aggregate: AggregateFunction<IN, any, any>
      readonly windowFunction: WindowFunction<any, OUT, W> | undefined
    }
  | { readonly kind: 'process'; readonly process: ProcessWindowFunctionObject<IN, OUT, W> }

/**
 * How a window keeps its records and turns them into output. Reduce and aggregate keep one value per
 * window (incremental, as Flink's ReducingState / AggregatingState); process and any window with an
 * evictor keep every record (Flink's ListState).
 */
export interface WindowContents<IN, ACC, OUT, W extends Window> {
  /** Whether the contents of two windows can be combined (needed by session windows). */
  readonly canMerge: boolean
  open(runtime: RuntimeContext): void
  close(): void
  /** Adds a record; `contents` is undefined for a window that has none yet. May mutate and return `contents`. */
  add(contents: ACC | undefined, value: IN, timestamp: number | undefined): ACC
  merge(target: ACC, other: ACC): ACC
  /** Evaluates the window; false when nothing is left in it afterwards (an evictor removed everything). */
  emit(key: Key, window: W, contents: ACC, ctx: ProcessWindowContext<W>, out: Collector<OUT>): boolean
  /** The window is gone. */
  clear(key: Key, ctx: ProcessWindowContext<W>): void
}

/**
 * The contents strategy for a window function, with an evictor or without.
 *
 * @example
 * const contents = windowContents({ kind: 'reduce', reduce: (a: number, b: number) => a + b, windowFunction: undefined }, undefined)
 */
export function windowContents<IN, OUT, W extends Window>(
  spec: WindowFunctionSpec<IN, OUT, W>,
  evictor: Evictor<IN, W> | undefined,
): WindowContents<IN, any, OUT, W> {
  if (evictor !== undefined) return new EvictingContents(spec, evictor)
  switch (spec.kind) {
    case 'reduce':
      return new ReducingContents(spec.reduce, spec.windowFunction)
    case 'aggregate':
      return new AggregatingContents(spec.aggregate, spec.windowFunction)
    case 'process':
      return new ListContents(spec.process)
  }
}

abstract class BaseContents<IN, ACC, OUT, W extends Window> implements WindowContents<IN, ACC, OUT, W> {
  readonly canMerge: boolean = true
  open(_runtime: RuntimeContext): void {}
  close(): void {}
  clear(_key: Key, _ctx: ProcessWindowContext<W>): void {}
  abstract add(contents: ACC | undefined, value: IN, timestamp: number | undefined): ACC
  abstract merge(target: ACC, other: ACC): ACC
  abstract emit(key: Key, window: W, contents: ACC, ctx: ProcessWindowContext<W>, out: Collector<OUT>): boolean
}

class ReducingContents<IN, OUT, W extends Window> extends BaseContents<IN, IN, OUT, W> {
  constructor(
    private readonly reduce: (a: IN, b: IN) => IN,
    private readonly windowFunction: WindowFunction<IN, OUT, W> | undefined,
  ) {
    super()
  }

  add(contents: IN | undefined, value: IN): IN {
    return contents === undefined ? value : this.reduce(contents, value)
  }

  merge(target: IN, other: IN): IN {
    return this.reduce(target, other)
  }

  emit(key: Key, window: W, contents: IN, _ctx: ProcessWindowContext<W>, out: Collector<OUT>): boolean {
    out.collect(
      this.windowFunction === undefined ? (contents as unknown as OUT) : this.windowFunction(key, window, contents),
    )
    return true
  }
}

class AggregatingContents<IN, ACC, OUT, W extends Window> extends BaseContents<IN, ACC, OUT, W> {
  override readonly canMerge: boolean

  constructor(
    private readonly fn: AggregateFunction<IN, ACC, unknown>,
    private readonly windowFunction: WindowFunction<unknown, OUT, W> | undefined,
  ) {
    super()
    this.canMerge = typeof fn.merge === 'function'
  }

  add(contents: ACC | undefined, value: IN): ACC {
    return this.fn.add(value, contents === undefined ? this.fn.createAccumulator() : contents)
  }

  merge(target: ACC, other: ACC): ACC {
    return this.fn.merge!(target, other)
  }

  emit(key: Key, window: W, contents: ACC, _ctx: ProcessWindowContext<W>, out: Collector<OUT>): boolean {
    const result = this.fn.getResult(contents)
    out.collect(this.windowFunction === undefined ? (result as OUT) : this.windowFunction(key, window, result))
    return true
  }
}

class ListContents<IN, OUT, W extends Window> extends BaseContents<IN, IN[], OUT, W> {
  constructor(private readonly fn: ProcessWindowFunctionObject<IN, OUT, W>) {
    super()
  }

  override open(runtime: RuntimeContext): void {
    this.fn.open?.(runtime)
  }

  override close(): void {
    this.fn.close?.()
  }

  override clear(key: Key, ctx: ProcessWindowContext<W>): void {
    this.fn.clear?.(key, ctx)
  }

  add(contents: IN[] | undefined, value: IN): IN[] {
    if (contents === undefined) return [value]
    contents.push(value)
    return contents
  }

  merge(target: IN[], other: IN[]): IN[] {
    for (const value of other) target.push(value)
    return target
  }

  emit(key: Key, _window: W, contents: IN[], ctx: ProcessWindowContext<W>, out: Collector<OUT>): boolean {
    this.fn.process(key, ctx, contents, out)
    return true
  }
}

/**
 * Keeps every record with its timestamp, so the evictor can drop some before and after the function
 * runs (Flink's EvictingWindowOperator); reduce and aggregate are applied to what is left at firing.
 */
class EvictingContents<IN, OUT, W extends Window> extends BaseContents<IN, TimestampedValue<IN>[], OUT, W> {
  private readonly list: ListContents<IN, OUT, W> | undefined

  constructor(
    private readonly spec: WindowFunctionSpec<IN, OUT, W>,
    private readonly evictor: Evictor<IN, W>,
  ) {
    super()
    this.list = spec.kind === 'process' ? new ListContents(spec.process) : undefined
  }

  override open(runtime: RuntimeContext): void {
    this.list?.open(runtime)
  }

  override close(): void {
    this.list?.close()
  }

  override clear(key: Key, ctx: ProcessWindowContext<W>): void {
    this.list?.clear(key, ctx)
  }

  add(contents: TimestampedValue<IN>[] | undefined, value: IN, timestamp: number | undefined): TimestampedValue<IN>[] {
    const element = { value, timestamp }
    if (contents === undefined) return [element]
    contents.push(element)
    return contents
  }

  merge(target: TimestampedValue<IN>[], other: TimestampedValue<IN>[]): TimestampedValue<IN>[] {
    for (const element of other) target.push(element)
    return target
  }

  emit(
    key: Key,
    window: W,
    contents: TimestampedValue<IN>[],
    ctx: ProcessWindowContext<W>,
    out: Collector<OUT>,
  ): boolean {
    this.evictor.evictBefore(contents, contents.length, window, ctx)
    if (contents.length > 0)
      this.apply(
        key,
        window,
        contents.map((e) => e.value),
        ctx,
        out,
      )
    this.evictor.evictAfter(contents, contents.length, window, ctx)
    return contents.length > 0
  }

  private apply(key: Key, window: W, values: IN[], ctx: ProcessWindowContext<W>, out: Collector<OUT>): void {
    const spec = this.spec
    switch (spec.kind) {
      case 'reduce': {
        let result = values[0] as IN
        for (let i = 1; i < values.length; i++) result = spec.reduce(result, values[i] as IN)
        out.collect(
          spec.windowFunction === undefined ? (result as unknown as OUT) : spec.windowFunction(key, window, result),
        )
        return
      }
      case 'aggregate': {
        let acc = spec.aggregate.createAccumulator()
        for (const value of values) acc = spec.aggregate.add(value, acc)
        const result = spec.aggregate.getResult(acc)
        out.collect(spec.windowFunction === undefined ? (result as OUT) : spec.windowFunction(key, window, result))
        return
      }
      case 'process':
        this.list!.emit(key, window, values, ctx, out)
    }
  }
}

import { ConfigError } from '../errors.js'
import type { AggregateFunction } from '../state/descriptors.js'
import type {
  ProcessWindowFunction,
  ProcessWindowFunctionObject,
  WindowFunction,
} from '../windows/process-window-function.js'
import { isMergingAssigner, type WindowAssigner } from '../windows/window-assigner.js'
import { type WindowFunctionSpec, windowContents } from '../windows/window-contents.js'
import { WindowOperator } from '../windows/window-operator.js'
import { type WindowOptions, validateWindowOptions } from '../windows/window-options.js'
import type { Window } from '../windows/window.js'
import { type DataStream, KeyedStream } from './data-stream.js'
import type { OperatorOptions } from '../runtime/transformation.js'
import { cloneFunction } from '../operators/function-operator.js'

/**
 * Options of a windowed `reduce` or `aggregate`: the operator's options, and an optional window function
 * that turns each window's single result into the output, knowing the key and the window.
 *
 * @example
 * windowed.reduce((a, b) => a + b, { windowFunction: (key, window, sum) => ({ key, end: window.end, sum }) })
 */
export interface WindowFunctionOptions<R, OUT, W extends Window = Window> extends OperatorOptions {
  windowFunction?: WindowFunction<R, OUT, W>
}

/** The constant key every record of a non-keyed windowed stream is grouped under. */
const ALL = 0

/**
 * A keyed stream cut into windows, waiting for the function that evaluates them (Flink's
 * WindowedStream / AllWindowedStream). It is not a stream: in a `pipe`, `window(...)` must be followed
 * by `reduce`, `aggregate` or `process`, which call the methods here.
 *
 * On a stream without `keyBy`, every record is grouped under one constant key and the window operator
 * runs with parallelism 1 (Flink's windowAll).
 *
 * @example
 * WindowedStream.of(keyed, tumblingEventTimeWindows(1_000), {}).reduce((a, b) => a + b)
 */
export class WindowedStream<T, W extends Window = Window> {
  private constructor(
    readonly input: KeyedStream<T>,
    readonly assigner: WindowAssigner<T, W>,
    readonly options: WindowOptions<T, W>,
    /** The input had no keyBy: all records share one key and the operator runs once. */
    readonly nonKeyed: boolean,
  ) {}

  /**
   * Windows `input` by `assigner`; a stream without `keyBy` is windowed as a whole.
   *
   * @example
   * const windowed = WindowedStream.of(clicks, tumblingProcessingTimeWindows(1_000), { trigger: CountTrigger.of(100) })
   */
  static of<T, W extends Window>(
    input: DataStream<T>,
    assigner: WindowAssigner<T, W>,
    options: WindowOptions<T, W> = {},
  ): WindowedStream<T, W> {
    if (typeof assigner?.assignWindows !== 'function' || typeof assigner.defaultTrigger !== 'function') {
      throw new ConfigError('window', assigner, 'a WindowAssigner, e.g. tumblingEventTimeWindows(ms)')
    }
    validateWindowOptions(options)
    const trigger = options.trigger ?? assigner.defaultTrigger()
    if (isMergingAssigner(assigner) && !trigger.canMerge) {
      throw new ConfigError(
        'window.trigger',
        trigger.name,
        `a trigger that can merge (canMerge), since ${assigner.name} merges windows`,
      )
    }
    if (input instanceof KeyedStream) return new WindowedStream(input, assigner, options, false)
    return new WindowedStream(
      input.keyBy(() => ALL),
      assigner,
      options,
      true,
    )
  }

  /**
   * One reduced value per key and window; with `windowFunction`, that value with its key and window.
   *
   * @example
   * windowed.reduce((a, b) => ({ ...a, clicks: a.clicks + b.clicks }))
   */
  reduce<OUT = T>(
    reducer: (accumulated: T, value: T) => T,
    options: WindowFunctionOptions<T, OUT, W> = {},
  ): DataStream<OUT> {
    if (typeof reducer !== 'function')
      throw new ConfigError('reduce', reducer, 'a function (accumulated, value) => value')
    const { windowFunction, ...operatorOptions } = options ?? {}
    requireWindowFunction(windowFunction)
    return this.build('reduce', { kind: 'reduce', reduce: reducer, windowFunction }, operatorOptions)
  }

  /**
   * One aggregate per key and window, kept as an accumulator; with `windowFunction`, the result with
   * its key and window. Session windows need the function's `merge`.
   *
   * @example
   * windowed.aggregate({ createAccumulator: () => 0, add: (_v, n) => n + 1, getResult: (n) => n, merge: (a, b) => a + b })
   */
  aggregate<ACC, R, OUT = R>(
    fn: AggregateFunction<T, ACC, R>,
    options: WindowFunctionOptions<R, OUT, W> = {},
  ): DataStream<OUT> {
    if (
      typeof fn?.createAccumulator !== 'function' ||
      typeof fn.add !== 'function' ||
      typeof fn.getResult !== 'function'
    ) {
      throw new ConfigError('aggregate', fn, 'an AggregateFunction with createAccumulator, add and getResult')
    }
    if (isMergingAssigner(this.assigner) && this.options.evictor === undefined && typeof fn.merge !== 'function') {
      throw new ConfigError(
        'aggregate',
        'an AggregateFunction without merge',
        `an AggregateFunction with merge(a, b), since ${this.assigner.name} merges windows`,
      )
    }
    const { windowFunction, ...operatorOptions } = options ?? {}
    requireWindowFunction(windowFunction)
    return this.build('aggregate', { kind: 'aggregate', aggregate: fn, windowFunction }, operatorOptions)
  }

  /**
   * Evaluates each window with all its records (a {@link ProcessWindowFunction}).
   *
   * @example
   * windowed.process((key, ctx, elements, out) => out.collect({ key, end: ctx.window.maxTimestamp(), n: elements.length }))
   */
  process<OUT>(fn: ProcessWindowFunction<T, OUT, W>, options: OperatorOptions = {}): DataStream<OUT> {
    const fnObject: ProcessWindowFunctionObject<T, OUT, W> | undefined = typeof fn === 'function' ? { process: fn } : fn
    if (typeof fnObject?.process !== 'function')
      throw new ConfigError(
        'process',
        fn,
        'a process window function: (key, context, elements, out) => void, or an object with process',
      )
    // Each subtask gets its own copy, so fields a function sets in open() are per subtask.
    return this.build('process', { kind: 'process', process: fnObject }, options, () => ({
      kind: 'process',
      process: cloneFunction(fnObject),
    }))
  }

  private build<OUT>(
    kind: string,
    spec: WindowFunctionSpec<T, OUT, W>,
    options: OperatorOptions,
    specPerSubtask: () => WindowFunctionSpec<T, OUT, W> = () => spec,
  ): DataStream<OUT> {
    if (this.nonKeyed && options.parallelism !== undefined && options.parallelism !== 1) {
      throw new ConfigError(
        `${kind}.parallelism`,
        options.parallelism,
        '1 (a window over a stream without keyBy runs in one subtask)',
      )
    }
    const { assigner, options: windowOptions } = this
    const trigger = windowOptions.trigger ?? assigner.defaultTrigger()
    const evictor = windowOptions.evictor
    const name = `${this.nonKeyed ? 'windowAll' : 'window'}(${assigner.name}, ${trigger.name}${evictor === undefined ? '' : `, ${evictor.name}`}, ${kind})`
    return this.input.transform<OUT>(
      name,
      () =>
        new WindowOperator({
          assigner,
          trigger,
          evictor,
          allowedLatenessMs: windowOptions.allowedLatenessMs ?? 0,
          lateOutput: windowOptions.lateOutput,
          contents: windowContents(specPerSubtask(), evictor),
        }),
      this.nonKeyed ? { ...options, parallelism: 1 } : options,
    )
  }
}

function requireWindowFunction(windowFunction: unknown): void {
  if (windowFunction !== undefined && typeof windowFunction !== 'function')
    throw new ConfigError('windowFunction', windowFunction, 'a function (key, window, result) => output')
}

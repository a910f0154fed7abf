import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'
import type { OperatorOptions } from '../runtime/transformation.js'
import { ConfigError } from '../errors.js'
import { cloneFunction, FunctionOperator } from './function-operator.js'
import type { Collector, ProcessContext, ProcessFunction } from './process-function.js'
import { WindowedStream } from '../api/windowed-stream.js'
import type { ProcessWindowFunction } from '../windows/process-window-function.js'
import type { Window } from '../windows/window.js'

/**
 * The general operator: a function with keyed state, event- and processing-time timers and side
 * outputs (Flink's process / KeyedProcessFunction). After `window(...)` it is a process window function.
 *
 * @example
 * const alerts = readings.pipe(keyBy((r) => r.sensor), process({
 *   processElement(r, ctx, out) { if (r.value > 100) out.collect(r); ctx.timerService.registerEventTimeTimer(r.time + 60_000) },
 *   onTimer(ts, ctx, out) { out.collect({ sensor: ctx.currentKey, silentSince: ts }) },
 * }))
 */
export function process<IN, OUT>(
  fn: ProcessFunction<IN, OUT> | ((value: IN, ctx: ProcessContext, out: Collector<OUT>) => void),
  options?: OperatorOptions,
): EngineOperator<IN, OUT>
export function process<IN, OUT, W extends Window = Window>(
  fn: ProcessWindowFunction<IN, OUT, W>,
  options?: OperatorOptions,
): EngineOperator<IN, OUT>
export function process<IN, OUT>(fn: unknown, options: OperatorOptions = {}): EngineOperator<IN, OUT> {
  if (typeof fn !== 'function' && (fn === null || typeof fn !== 'object'))
    throw new ConfigError('process', fn, 'a function or a process function object')
  return engineOperator((input) => {
    if (input instanceof WindowedStream) return input.process(fn as ProcessWindowFunction<IN, OUT, Window>, options)
    const fnObject = (typeof fn === 'function' ? { processElement: fn } : fn) as ProcessFunction<IN, OUT>
    if (typeof fnObject.processElement !== 'function')
      throw new ConfigError(
        'process',
        fn,
        'a function (value, ctx, out) or an object with processElement(value, ctx, out)',
      )
    return requireStream(input, 'process').transform(
      'process',
      () => new ProcessOperator(cloneFunction(fnObject)),
      options,
    )
  })
}

class ProcessOperator<IN, OUT> extends FunctionOperator<IN, OUT, ProcessFunction<IN, OUT>> {
  processRecord(value: IN, timestamp: number | undefined): void {
    this.begin(timestamp)
    this.fn.processElement(value, this.ctx, this)
  }
}

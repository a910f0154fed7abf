import { KeyedStream } from '../api/data-stream.js'
import { validateOperatorOptions } from '../api/validate-options.js'
import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'
import type { OperatorOptions } from '../runtime/transformation.js'
import { WindowedStream, type WindowFunctionOptions } from '../api/windowed-stream.js'
import type { WindowFunction } from '../windows/process-window-function.js'
import { ConfigError } from '../errors.js'
import { type AggregateFunction, ValueStateDescriptor } from '../state/descriptors.js'
import type { ValueState } from '../state/value-state.js'
import { StreamOperator } from '../runtime/stream-operator.js'

/**
 * On a keyed stream: a rolling aggregate (an accumulator per key) that emits the key's current result
 * for every record. After `window(...)`: one result per key and window.
 *
 * @example
 * const average = { createAccumulator: () => [0, 0], add: (v, [s, n]) => [s + v, n + 1], getResult: ([s, n]) => s / n }
 * readings.pipe(keyBy((r) => r.sensor), map((r) => r.value), aggregate(average))
 */
export function aggregate<IN, ACC, OUT>(
  fn: AggregateFunction<IN, ACC, OUT>,
  options?: OperatorOptions,
): EngineOperator<IN, OUT>
export function aggregate<IN, ACC, R, OUT>(
  fn: AggregateFunction<IN, ACC, R>,
  options: WindowFunctionOptions<R, OUT, any> & { windowFunction: WindowFunction<R, OUT, any> },
): EngineOperator<IN, OUT>
export function aggregate<IN, ACC, OUT>(
  fn: AggregateFunction<IN, ACC, OUT>,
  options: WindowFunctionOptions<OUT, unknown, any> = {},
): EngineOperator<IN, unknown> {
  if (
    typeof fn?.createAccumulator !== 'function' ||
    typeof fn.add !== 'function' ||
    typeof fn.getResult !== 'function'
  ) {
    throw new ConfigError('aggregate', fn, 'an AggregateFunction with createAccumulator, add and getResult')
  }
  validateOperatorOptions('aggregate', options, ['windowFunction'])
  return engineOperator((input) => {
    if (input instanceof WindowedStream) return input.aggregate(fn, options)
    const stream = requireStream(input, 'aggregate')
    if (!(stream instanceof KeyedStream))
      throw new ConfigError('aggregate', 'an unkeyed stream', 'a keyed stream: put keyBy before aggregate')
    if (options.windowFunction !== undefined)
      throw new ConfigError('aggregate.windowFunction', 'outside a window', 'window(...) before aggregate')
    return stream.transform('aggregate', () => new AggregateOperator(fn), options)
  })
}

class AggregateOperator<IN, ACC, OUT> extends StreamOperator<IN, OUT> {
  private state!: ValueState<ACC>

  constructor(private readonly fn: AggregateFunction<IN, ACC, OUT>) {
    super()
  }

  override open(): void {
    this.state = this.keyedState!.getState(new ValueStateDescriptor<ACC>('aggregate'))
  }

  processRecord(value: IN, timestamp: number | undefined): void {
    const accumulator = this.fn.add(value, this.state.value() ?? this.fn.createAccumulator())
    this.state.update(accumulator)
    this.output.collect(this.fn.getResult(accumulator), timestamp)
  }
}

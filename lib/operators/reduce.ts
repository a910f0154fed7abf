import { KeyedStream } from '../api/data-stream.js'
import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'
import type { OperatorOptions } from '../runtime/transformation.js'
import { requireFunction, validateOperatorOptions } from '../api/validate-options.js'
import { WindowedStream, type WindowFunctionOptions } from '../api/windowed-stream.js'
import type { WindowFunction } from '../windows/process-window-function.js'
import { ConfigError } from '../errors.js'
import { ValueStateDescriptor } from '../state/descriptors.js'
import type { ValueState } from '../state/value-state.js'
import { StreamOperator } from '../runtime/stream-operator.js'

/**
 * On a keyed stream: a rolling reduce that emits the key's running result for every record. After
 * `window(...)`: one result per key and window.
 *
 * @example
 * words.pipe(map((w) => [w, 1] as const), keyBy(([w]) => w), reduce(([w, a], [, b]) => [w, a + b] as const))
 */
export function reduce<T>(reducer: (accumulated: T, value: T) => T, options?: OperatorOptions): EngineOperator<T, T>
export function reduce<T, OUT>(
  reducer: (accumulated: T, value: T) => T,
  options: WindowFunctionOptions<T, OUT, any> & { windowFunction: WindowFunction<T, OUT, any> },
): EngineOperator<T, OUT>
export function reduce<T>(
  reducer: (accumulated: T, value: T) => T,
  options: WindowFunctionOptions<T, unknown, any> = {},
): EngineOperator<T, unknown> {
  requireFunction('reduce', reducer)
  validateOperatorOptions('reduce', options, ['windowFunction'])
  return engineOperator((input) => {
    if (input instanceof WindowedStream) return input.reduce(reducer, options)
    const stream = requireStream(input, 'reduce')
    if (!(stream instanceof KeyedStream))
      throw new ConfigError('reduce', 'an unkeyed stream', 'a keyed stream: put keyBy before reduce')
    if (options.windowFunction !== undefined)
      throw new ConfigError('reduce.windowFunction', 'outside a window', 'window(...) before reduce')
    return stream.transform('reduce', () => new ReduceOperator(reducer), options)
  })
}

class ReduceOperator<T> extends StreamOperator<T, T> {
  private state!: ValueState<T>

  constructor(private readonly reducer: (accumulated: T, value: T) => T) {
    super()
  }

  override open(): void {
    this.state = this.keyedState!.getState(new ValueStateDescriptor<T>('reduce'))
  }

  processRecord(value: T, timestamp: number | undefined): void {
    const current = this.state.value()
    const next = current === undefined ? value : this.reducer(current, value)
    this.state.update(next)
    this.output.collect(next, timestamp)
  }
}

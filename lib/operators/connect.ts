import type { Observable } from 'rxjs'
import { validateOperatorOptions } from '../api/validate-options.js'
import { DataStream, KeyedStream } from '../api/data-stream.js'
import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'
import type { OperatorOptions } from '../runtime/transformation.js'
import { ConfigError } from '../errors.js'
import type { Key } from '../state/key-groups.js'
import { cloneFunction, FunctionOperator } from './function-operator.js'
import type { Collector, ProcessContext, RuntimeContext } from './process-function.js'

/**
 * A function over two inputs that share state (Flink's CoProcessFunction): control and data streams,
 * joins, enrichment from a changelog.
 */
export interface CoProcessFunction<A, B, OUT> {
  open?(runtime: RuntimeContext): void
  processElement1(value: A, ctx: ProcessContext, out: Collector<OUT>): void
  processElement2(value: B, ctx: ProcessContext, out: Collector<OUT>): void
  onTimer?(timestamp: number, ctx: ProcessContext, out: Collector<OUT>): void
  close?(): void
}

/** Options of {@link connect}. */
export interface ConnectOptions<B> extends OperatorOptions {
  /** Keys the second input; needed when the first is keyed and the second is not yet. */
  key2?: (value: B) => Key
}

/**
 * Connects a second stream; one function sees both inputs and, when both are keyed, shares keyed
 * state and timers per key between them. The watermark is the minimum of both inputs.
 *
 * @example
 * orders.pipe(keyBy((o) => o.sku), connect(prices, {
 *   processElement1(order, ctx, out) { out.collect({ ...order, price: this.price.value() }) },
 *   processElement2(p) { this.price.update(p.amount) },
 * }, { key2: (p) => p.sku }))
 */
export function connect<A, B, OUT>(
  other: DataStream<B> | Observable<B>,
  fn: CoProcessFunction<A, B, OUT>,
  options: ConnectOptions<B> = {},
): EngineOperator<A, OUT> {
  if (typeof fn?.processElement1 !== 'function' || typeof fn.processElement2 !== 'function') {
    throw new ConfigError('connect', fn, 'an object with processElement1 and processElement2')
  }
  validateOperatorOptions('connect', options, ['key2'])
  const { key2, ...operatorOptions } = options
  return engineOperator((input) => {
    const first = requireStream(input, 'connect') as DataStream<A>
    let second: DataStream<B> = other instanceof DataStream ? other : first.env.fromObservable(other)
    if (key2 !== undefined) second = second.keyBy(key2)
    if (first instanceof KeyedStream !== second instanceof KeyedStream) {
      throw new ConfigError(
        'connect',
        'one keyed and one unkeyed input',
        'both inputs keyed (keyBy before connect and the key2 option) or neither',
      )
    }
    return first.transform('connect', () => new CoProcessOperator(cloneFunction(fn)), operatorOptions, [
      second as DataStream<unknown>,
    ])
  })
}

class CoProcessOperator<A, B, OUT> extends FunctionOperator<A, OUT, CoProcessFunction<A, B, OUT>> {
  processRecord(value: A, timestamp: number | undefined): void {
    this.begin(timestamp)
    this.fn.processElement1(value, this.ctx, this)
  }

  override processRecord2(value: unknown, timestamp: number | undefined): void {
    this.begin(timestamp)
    this.fn.processElement2(value as B, this.ctx, this)
  }
}

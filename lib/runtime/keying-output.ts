import { type Key, keyGroupOf } from '../state/key-groups.js'
import type { Output } from './output.js'
import type { OutputTag } from './output-tag.js'
import { handleUserError, type StreamOperator } from './stream-operator.js'

/**
 * Feeds a keyed operator directly (embedded mode, where a keyBy is no network shuffle): computes the
 * record's key and key group, makes it the operator's current key, then hands the record on.
 *
 * @example
 * new KeyingOutput((o: Order) => o.customer, 128, reduceOperator, chain.input(reduceNode, 1))
 */
export class KeyingOutput<T> implements Output<T> {
  constructor(
    private readonly keySelector: (value: T) => Key,
    private readonly maxParallelism: number,
    private readonly operator: StreamOperator<T, unknown>,
    private readonly input: Output<T>,
  ) {}

  collect(value: T, timestamp: number | undefined): void {
    let key: Key
    try {
      key = this.keySelector(value)
    } catch (error) {
      handleUserError(this.operator, value, error)
      return
    }
    this.operator.keyedState!.keyContext.set(key, keyGroupOf(key, this.maxParallelism))
    this.input.collect(value, timestamp)
  }

  emitWatermark(watermark: number): void {
    this.input.emitWatermark(watermark)
  }

  emitWatermarkStatus(idle: boolean): void {
    this.input.emitWatermarkStatus(idle)
  }

  emitSide<X>(tag: OutputTag<X>, value: X, timestamp: number | undefined): void {
    this.input.emitSide(tag, value, timestamp)
  }
}

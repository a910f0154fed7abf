import type { Output } from './output.js'
import type { OutputTag } from './output-tag.js'
import { handleUserError, type StreamOperator } from './stream-operator.js'

/**
 * The way into an operator (Flink's ChainingOutput): the upstream operator's output calls it
 * synchronously, with no hop. It counts the operator's input and applies its error policy to failures.
 * (From an upstream chained to it alone, records come in by a `ChainedInput`, which counts nothing.)
 *
 * @example
 * const input = new OperatorInput(mapOperator, 1, metrics)
 * input.collect('record', undefined)
 */
export class OperatorInput<IN> implements Output<IN> {
  constructor(
    readonly operator: StreamOperator<IN, unknown>,
    readonly input: 1 | 2,
    readonly counter: { countedIn: number },
  ) {}

  collect(value: IN, timestamp: number | undefined): void {
    this.counter.countedIn++
    try {
      if (this.input === 1) this.operator.processRecord(value, timestamp)
      else this.operator.processRecord2(value, timestamp)
    } catch (error) {
      handleUserError(this.operator, value, error)
    }
  }

  emitWatermark(watermark: number): void {
    this.operator.processWatermark(watermark)
  }

  emitWatermarkStatus(idle: boolean): void {
    this.operator.processWatermarkStatus(idle)
  }

  emitSide<X>(_tag: OutputTag<X>, _value: X): void {
    throw new Error('side outputs are routed by the producing operator')
  }
}

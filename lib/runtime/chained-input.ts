import type { Output } from './output.js'
import type { OutputTag } from './output-tag.js'
import { handleUserError, type StreamOperator } from './stream-operator.js'

/**
 * The way into an operator from the one upstream chained to it, when that upstream has no other main
 * target: it counts nothing, as the operator's records in are that upstream's records out
 * (`OperatorMetrics.deriveInFrom`). Otherwise as `OperatorInput`: it applies the operator's
 * error policy to failures.
 *
 * @example
 * const input = new ChainedInput(sinkOperator)
 * input.collect('record', undefined)
 */
export class ChainedInput<IN> implements Output<IN> {
  constructor(readonly operator: StreamOperator<IN, unknown>) {}

  collect(value: IN, timestamp: number | undefined): void {
    try {
      this.operator.processRecord(value, timestamp)
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

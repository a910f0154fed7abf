import { ChainedInput } from './chained-input.js'
import type { OperatorMetrics } from './operator-metrics.js'
import type { Output } from './output.js'
import { DEAD_LETTERS, type DeadLetter, type OutputTag } from './output-tag.js'
import { handleUserError, type StreamOperator } from './stream-operator.js'

/**
 * The output an operator writes to: counts its records, hands them to every main target (chained
 * operators, network writers), and routes side outputs by tag. Dead letters nobody reads go to the
 * job's dead-letter handler instead of vanishing.
 *
 * @example
 * const out = new OperatorOutput(metrics, [nextOperatorInput], new Map(), (letter) => log(letter))
 * out.collect(42, undefined)
 */
export class OperatorOutput<T> implements Output<T> {
  private readonly single: Output<T> | undefined
  /**
   * The one chained operator this output feeds, called without the input hop; it counts no records in
   * (they are this output's records out, see `ChainedInput`).
   */
  private readonly direct: StreamOperator<T, unknown> | undefined

  constructor(
    readonly metrics: OperatorMetrics,
    private readonly main: Output<T>[],
    private readonly side: Map<string, Output<unknown>[]>,
    private readonly unreadDeadLetter: (letter: DeadLetter) => void,
  ) {
    this.single = main.length === 1 ? main[0] : undefined
    this.direct = this.single instanceof ChainedInput ? this.single.operator : undefined
  }

  collect(value: T, timestamp: number | undefined): void {
    this.metrics.countedOut++
    const direct = this.direct
    if (direct !== undefined) {
      try {
        direct.processRecord(value, timestamp)
      } catch (error) {
        handleUserError(direct, value, error)
      }
    } else if (this.single !== undefined) this.single.collect(value, timestamp)
    else for (let i = 0; i < this.main.length; i++) this.main[i]!.collect(value, timestamp)
  }

  emitWatermark(watermark: number): void {
    for (const target of this.main) target.emitWatermark(watermark)
    for (const targets of this.side.values()) for (const target of targets) target.emitWatermark(watermark)
  }

  emitWatermarkStatus(idle: boolean): void {
    for (const target of this.main) target.emitWatermarkStatus(idle)
    for (const targets of this.side.values()) for (const target of targets) target.emitWatermarkStatus(idle)
  }

  emitSide<X>(tag: OutputTag<X>, value: X, timestamp: number | undefined): void {
    const targets = this.side.get(tag.id)
    if (targets !== undefined) for (const target of targets) target.collect(value, timestamp)
    else if (tag.id === DEAD_LETTERS.id) this.unreadDeadLetter(value as DeadLetter)
  }
}

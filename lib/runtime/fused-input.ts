import type { OperatorInput } from './operator-input.js'
import type { OperatorMetrics } from './operator-metrics.js'
import type { Output } from './output.js'
import type { OutputTag } from './output-tag.js'
import type { StreamOperator } from './stream-operator.js'

/**
 * An operator whose work on a record is one function of the record alone (map, filter): inside a
 * chain, its upstream calls that function and the next operator's input directly, with no
 * `processRecord` or output of its own in between, so a run of such operators is one call deep per
 * operator and each call site sees one target (V8 inlines them). Watermarks still go through the
 * operator.
 *
 * @example
 * class MapOperator extends StreamOperator<T, R> implements FusableOperator<T, R> {
 *   fusedInput(own, next, metrics) { return new MappingInput(this, own, next, metrics, this.project) }
 * }
 */
export interface FusableOperator<IN, OUT> {
  /**
   * The record path through this operator into `next` (the input of the one operator or writer its
   * records go to). `own` is its ordinary input, for watermarks; `metrics` are its counters. The path
   * counts no records in (the chain derives or counts them); it keeps its records out exact with as
   * little per record as it can: a filter counts what it keeps, a map only what it fails on (see
   * `OperatorMetrics`).
   */
  fusedInput(own: OperatorInput<IN>, next: Output<OUT>, metrics: OperatorMetrics): Output<IN>
}

/**
 * Whether an operator offers a fused record path.
 *
 * @example
 * if (isFusable(operator)) target = operator.fusedInput(input, next, metrics)
 */
export function isFusable<IN, OUT>(
  operator: StreamOperator<IN, OUT>,
): operator is StreamOperator<IN, OUT> & FusableOperator<IN, OUT> {
  return typeof (operator as Partial<FusableOperator<IN, OUT>>).fusedInput === 'function'
}

/**
 * What the fused record paths share: watermarks and idleness go through the operator's own input, as
 * without fusion (the operator may act on them); a failure of the function is the operator's.
 *
 * @example
 * class MappingInput<T, R> extends FusedInput<T, R> { collect(v, ts) { this.next.collect(this.project(v), ts) } }
 */
export abstract class FusedInput<IN, OUT> implements Output<IN> {
  constructor(
    protected readonly operator: StreamOperator<IN, OUT>,
    private readonly own: OperatorInput<IN>,
    protected readonly next: Output<OUT>,
    protected readonly metrics: OperatorMetrics,
  ) {}

  abstract collect(value: IN, timestamp: number | undefined): void

  emitWatermark(watermark: number): void {
    this.own.emitWatermark(watermark)
  }

  emitWatermarkStatus(idle: boolean): void {
    this.own.emitWatermarkStatus(idle)
  }

  emitSide<X>(_tag: OutputTag<X>, _value: X): void {
    throw new Error('side outputs are routed by the producing operator')
  }
}

/**
 * Counts the records into a fused path whose records in are not its upstream's records out: those
 * that come as a side output (not counted out), or from an upstream with more than one main target (a
 * record out that fails the job in one target never reaches the next).
 *
 * @example
 * const path = new CountedFusedInput(metrics, operator.fusedInput(own, next, metrics))
 */
export class CountedFusedInput<IN> implements Output<IN> {
  constructor(
    private readonly metrics: OperatorMetrics,
    private readonly path: Output<IN>,
  ) {}

  collect(value: IN, timestamp: number | undefined): void {
    this.metrics.countedIn++
    this.path.collect(value, timestamp)
  }

  emitWatermark(watermark: number): void {
    this.path.emitWatermark(watermark)
  }

  emitWatermarkStatus(idle: boolean): void {
    this.path.emitWatermarkStatus(idle)
  }

  emitSide<X>(tag: OutputTag<X>, value: X, timestamp: number | undefined): void {
    this.path.emitSide(tag, value, timestamp)
  }
}

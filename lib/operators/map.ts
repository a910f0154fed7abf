import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'
import type { OperatorOptions } from '../runtime/transformation.js'
import { requireFunction } from '../api/validate-options.js'
import { type FusableOperator, FusedInput } from '../runtime/fused-input.js'
import type { OperatorInput } from '../runtime/operator-input.js'
import type { OperatorMetrics } from '../runtime/operator-metrics.js'
import type { Output } from '../runtime/output.js'
import { StreamOperator, handleUserError } from '../runtime/stream-operator.js'

/**
 * One output record per input record. The timestamp is kept.
 *
 * @example
 * env.fromElements(1, 2, 3).pipe(map((x) => x * 10)) // 10, 20, 30
 */
export function map<T, R>(project: (value: T) => R, options: OperatorOptions = {}): EngineOperator<T, R> {
  requireFunction('map', project)
  return engineOperator((input) =>
    requireStream(input, 'map').transform('map', () => new MapOperator(project), options),
  )
}

class MapOperator<T, R> extends StreamOperator<T, R> implements FusableOperator<T, R> {
  constructor(private readonly project: (value: T) => R) {
    super()
  }

  processRecord(value: T, timestamp: number | undefined): void {
    this.output.collect(this.project(value), timestamp)
  }

  fusedInput(own: OperatorInput<T>, next: Output<R>, metrics: OperatorMetrics): Output<T> {
    return new MappingInput(this, own, next, metrics, this.project)
  }
}

/**
 * A map's fused record path (see {@link FusableOperator}). It emits every record but those its
 * function fails on, so it counts only those: its records out are derived from its records in.
 */
class MappingInput<T, R> extends FusedInput<T, R> {
  constructor(
    operator: StreamOperator<T, R>,
    own: OperatorInput<T>,
    next: Output<R>,
    metrics: OperatorMetrics,
    private readonly project: (value: T) => R,
  ) {
    super(operator, own, next, metrics)
    metrics.deriveOutFromIn()
  }

  collect(value: T, timestamp: number | undefined): void {
    let result: R
    try {
      result = this.project(value)
    } catch (error) {
      this.metrics.failed++
      handleUserError(this.operator, value, error)
      return
    }
    this.next.collect(result, timestamp)
  }
}

import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'
import type { OperatorOptions } from '../runtime/transformation.js'
import { requireFunction } from '../api/validate-options.js'
import { type FusableOperator, FusedInput } from '../runtime/fused-input.js'
import type { OperatorInput } from '../runtime/operator-input.js'
import type { OperatorMetrics } from '../runtime/operator-metrics.js'
import type { Output } from '../runtime/output.js'
import { StreamOperator, handleUserError } from '../runtime/stream-operator.js'

/**
 * Keeps the records the predicate accepts.
 *
 * @example
 * env.fromElements(1, 2, 3, 4).pipe(filter((x) => x % 2 === 0)) // 2, 4
 */
export function filter<T>(predicate: (value: T) => boolean, options: OperatorOptions = {}): EngineOperator<T, T> {
  requireFunction('filter', predicate)
  return engineOperator((input) =>
    requireStream(input, 'filter').transform('filter', () => new FilterOperator(predicate), options),
  )
}

class FilterOperator<T> extends StreamOperator<T, T> implements FusableOperator<T, T> {
  constructor(private readonly predicate: (value: T) => boolean) {
    super()
  }

  processRecord(value: T, timestamp: number | undefined): void {
    if (this.predicate(value)) this.output.collect(value, timestamp)
  }

  fusedInput(own: OperatorInput<T>, next: Output<T>, metrics: OperatorMetrics): Output<T> {
    return new FilteringInput(this, own, next, metrics, this.predicate)
  }
}

/** A filter's fused record path (see {@link FusableOperator}). */
class FilteringInput<T> extends FusedInput<T, T> {
  constructor(
    operator: StreamOperator<T, T>,
    own: OperatorInput<T>,
    next: Output<T>,
    metrics: OperatorMetrics,
    private readonly predicate: (value: T) => boolean,
  ) {
    super(operator, own, next, metrics)
  }

  collect(value: T, timestamp: number | undefined): void {
    let keep: boolean
    try {
      keep = this.predicate(value)
    } catch (error) {
      handleUserError(this.operator, value, error)
      return
    }
    if (!keep) return
    this.metrics.countedOut++
    this.next.collect(value, timestamp)
  }
}

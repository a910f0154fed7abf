import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'
import type { OperatorOptions } from '../runtime/transformation.js'
import { requireFunction } from '../api/validate-options.js'
import { StreamOperator } from '../runtime/stream-operator.js'

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

class FilterOperator<T> extends StreamOperator<T, T> {
  constructor(private readonly predicate: (value: T) => boolean) {
    super()
  }

  processRecord(value: T, timestamp: number | undefined): void {
    if (this.predicate(value)) this.output.collect(value, timestamp)
  }
}

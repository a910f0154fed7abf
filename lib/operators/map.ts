import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'
import type { OperatorOptions } from '../runtime/transformation.js'
import { requireFunction } from '../api/validate-options.js'
import { StreamOperator } from '../runtime/stream-operator.js'

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

class MapOperator<T, R> extends StreamOperator<T, R> {
  constructor(private readonly project: (value: T) => R) {
    super()
  }

  processRecord(value: T, timestamp: number | undefined): void {
    this.output.collect(this.project(value), timestamp)
  }
}

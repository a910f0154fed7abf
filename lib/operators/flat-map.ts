import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'
import type { OperatorOptions } from '../runtime/transformation.js'
import { requireFunction } from '../api/validate-options.js'
import { StreamOperator } from '../runtime/stream-operator.js'

/**
 * Zero or more output records per input record, from any iterable the function returns. All outputs
 * keep the input's timestamp.
 *
 * @example
 * env.fromElements('a b', 'c').pipe(flatMap((line) => line.split(' '))) // 'a', 'b', 'c'
 */
export function flatMap<T, R>(project: (value: T) => Iterable<R>, options: OperatorOptions = {}): EngineOperator<T, R> {
  requireFunction('flatMap', project)
  return engineOperator((input) =>
    requireStream(input, 'flatMap').transform('flatMap', () => new FlatMapOperator(project), options),
  )
}

class FlatMapOperator<T, R> extends StreamOperator<T, R> {
  constructor(private readonly project: (value: T) => Iterable<R>) {
    super()
  }

  processRecord(value: T, timestamp: number | undefined): void {
    const out = this.project(value)
    if (Array.isArray(out)) for (let i = 0; i < out.length; i++) this.output.collect(out[i], timestamp)
    else for (const item of out) this.output.collect(item, timestamp)
  }
}

import type { Observable } from 'rxjs'
import { DataStream } from '../api/data-stream.js'
import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'

/**
 * Merges other streams into this one (Flink's union; RxJS's merge). In embedded mode the others are
 * Observables; in a job they are streams of the same environment, or Observables made into sources.
 * The merged watermark is the minimum over the inputs.
 *
 * @example
 * clicks.pipe(union(views), keyBy((e) => e.page), reduce(countEvents))
 */
export function union<T>(...others: Array<DataStream<T> | Observable<T>>): EngineOperator<T, T> {
  return engineOperator((input) => {
    const stream = requireStream(input, 'union') as DataStream<T>
    return stream.union(...others.map((o) => (o instanceof DataStream ? o : stream.env.fromObservable(o))))
  })
}

/** RxJS's name for {@link union}. */
export const merge = union

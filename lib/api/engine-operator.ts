import type { Observable, OperatorFunction } from 'rxjs'
import { EmbeddedStream } from './embedded-stream.js'
import { STAGE, type Stage } from './stage.js'

export { requireStream } from './data-stream.js'
export type { Stage } from './stage.js'

/**
 * An engine operator: an RxJS `OperatorFunction`, so it works in a plain Observable's `pipe` (embedded
 * mode: one inline subtask, no actors), that also knows how to add itself to a job's graph.
 */
export type EngineOperator<I, O> = OperatorFunction<I, O> & { readonly [STAGE]: Stage }

/**
 * Makes an engine operator from the stage that adds it to a job. The same stage runs in both modes:
 * embedded mode builds a one-subtask job around the source Observable and runs it inline.
 *
 * @example
 * export const double = () => engineOperator<number, number>((s: DataStream<number>) => s.transform('double', () => new Doubler()))
 */
export function engineOperator<I, O>(stage: Stage): EngineOperator<I, O> {
  const operator = ((source: Observable<I>) => EmbeddedStream.extend(source, operator)) as unknown as EngineOperator<
    I,
    O
  >
  Object.defineProperty(operator, STAGE, { value: stage })
  return operator
}

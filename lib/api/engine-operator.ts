import type { Observable, OperatorFunction } from 'rxjs'
import { ConfigError } from '../errors.js'
import type { DataStream } from './data-stream.js'
import { EmbeddedStream } from './embedded-stream.js'
import { RxOperator } from './rx-operator.js'

const STAGE = Symbol.for('sluice.stage')

/** How an engine operator extends a job under construction (a stream, or a windowed stream). */
export type Stage = (input: any) => unknown

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

/**
 * Applies one `pipe` argument to a job under construction: an engine operator adds its nodes; a plain
 * RxJS operator runs inside a subtask (its state is not checkpointed).
 *
 * @example
 * applyStage(stream, map((x: number) => x + 1))
 */
export function applyStage(current: unknown, op: OperatorFunction<any, any>): unknown {
  if (typeof op !== 'function') throw new ConfigError('pipe', op, 'operators (functions)')
  const stage = (op as Partial<EngineOperator<unknown, unknown>>)[STAGE]
  if (stage !== undefined) return stage(current)
  return requireStream(current, op.name || 'rxjs operator').transform(op.name || 'rxjs', () => new RxOperator(op))
}

/**
 * The stream a stage continues, or a clear error naming the operator when the stage before left
 * something else (a windowed stream must be followed by a window function).
 *
 * @example
 * const stream = requireStream(input, 'map')
 */
export function requireStream(current: unknown, operator: string): DataStream<any> {
  if (current !== null && typeof current === 'object' && 'transformation' in current) return current as DataStream<any>
  throw new ConfigError(
    operator,
    (current as object)?.constructor?.name ?? current,
    'a stream before it (after window(...) only reduce, aggregate or process may follow)',
  )
}

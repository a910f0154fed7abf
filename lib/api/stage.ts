import type { OperatorFunction } from 'rxjs'
import { ConfigError } from '../errors.js'
import type { StreamOperator } from '../runtime/stream-operator.js'
import { RxOperator } from './rx-operator.js'

/** The property under which an engine operator carries its stage. */
export const STAGE = Symbol.for('sluice.stage')

/** How an engine operator extends a job under construction (a stream, or a windowed stream). */
export type Stage = (input: any) => unknown

/** A stream under construction as the stage plumbing sees it (a `DataStream`), without importing it. */
export interface StageStream {
  readonly transformation: unknown
  transform(name: string, createOperator: () => StreamOperator<any, any>): unknown
}

/**
 * Whether a stage left a stream (not a windowed stream, which must be followed by a window function).
 *
 * @example
 * if (!isStream(current)) throw notAStream(current, 'map')
 */
export function isStream(current: unknown): current is StageStream {
  return current !== null && typeof current === 'object' && 'transformation' in current
}

/**
 * The error for an operator whose stage before it left something other than a stream.
 *
 * @example
 * throw notAStream(windowed, 'map') // ConfigError: map … a stream before it (after window(...) only …)
 */
export function notAStream(current: unknown, operator: string): ConfigError {
  return new ConfigError(
    operator,
    (current as object)?.constructor?.name ?? current,
    'a stream before it (after window(...) only reduce, aggregate or process may follow)',
  )
}

/**
 * Applies one `pipe` argument to a job under construction: an engine operator's stage adds its
 * nodes; a plain RxJS operator runs inside a subtask (its state is not checkpointed).
 *
 * @example
 * applyStage(stream, map((x: number) => x + 1))
 */
export function applyStage(current: unknown, op: OperatorFunction<any, any>): unknown {
  if (typeof op !== 'function') throw new ConfigError('pipe', op, 'operators (functions)')
  const stage = (op as { [STAGE]?: Stage })[STAGE]
  if (stage !== undefined) return stage(current)
  const name = op.name || 'rxjs operator'
  if (!isStream(current)) throw notAStream(current, name)
  return current.transform(op.name || 'rxjs', () => new RxOperator(op))
}

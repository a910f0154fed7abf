import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'

/**
 * Spreads records round-robin over the next operator's subtasks (to even out skew).
 *
 * @example
 * stream.pipe(rebalance(), map(expensive, { parallelism: 4 }))
 */
export function rebalance<T>(): EngineOperator<T, T> {
  return engineOperator((input) => requireStream(input, 'rebalance').rebalance())
}

/**
 * Sends every record to every subtask of the next operator.
 *
 * @example
 * rules.pipe(broadcast())
 */
export function broadcast<T>(): EngineOperator<T, T> {
  return engineOperator((input) => requireStream(input, 'broadcast').broadcast())
}

/**
 * Sends every record to subtask 0 of the next operator.
 *
 * @example
 * totals.pipe(global(), reduce(...))
 */
export function global<T>(): EngineOperator<T, T> {
  return engineOperator((input) => requireStream(input, 'global').global())
}

/**
 * Spreads records round-robin over a local group of the next operator's subtasks.
 *
 * @example
 * stream.pipe(rescale())
 */
export function rescale<T>(): EngineOperator<T, T> {
  return engineOperator((input) => requireStream(input, 'rescale').rescale())
}

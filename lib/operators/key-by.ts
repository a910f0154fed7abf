import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'
import { requireFunction } from '../api/validate-options.js'
import type { Key } from '../state/key-groups.js'

/**
 * Partitions the stream by key: every record of a key goes to the one subtask that owns the key's
 * key group, where keyed state and timers are scoped to that key. Keys are strings, numbers, bigints
 * or booleans (join composite keys into a string).
 *
 * @example
 * env.fromCollection(orders).pipe(keyBy((o) => o.customer), reduce((a, b) => ({ ...a, total: a.total + b.total })))
 */
export function keyBy<T>(keySelector: (value: T) => Key): EngineOperator<T, T> {
  requireFunction('keyBy', keySelector, 'a function value => key')
  return engineOperator((input) => requireStream(input, 'keyBy').keyBy(keySelector))
}

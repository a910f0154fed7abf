import type { QueryableRegistry, Served, StateAnswer } from '../queryable/queryable-registry.js'
import type { Key } from '../state/key-groups.js'
import { HttpError } from './http-error.js'

/**
 * Parses `?key=` as a JSON primitive: a quoted string, a finite number or a boolean.
 *
 * @example
 * parseKey('"/checkout"') // '/checkout'; parseKey('1e400') throws HttpError 400 ERR_BAD_KEY
 */
export function parseKey(text: string | null): Key {
  let key: unknown
  try {
    key = JSON.parse(text ?? '')
  } catch {
    key = undefined
  }
  const ok = typeof key === 'string' || typeof key === 'boolean' || (typeof key === 'number' && Number.isFinite(key))
  if (!ok)
    throw new HttpError(
      400,
      'ERR_BAD_KEY',
      'the key goes in ?key= as JSON: a string in quotes, a finite number or a boolean',
    )
  return key as Key
}

const restarting = () => new HttpError(503, 'ERR_JOB_RESTARTING', 'the job is restarting; ask again shortly', 1)

/** A lookup's answer as the job server sends it. */
export interface LookupAnswer {
  readonly key: Key
  readonly value: unknown
}

/**
 * The subtask that serves `key` of state `name`: 503 ERR_JOB_RESTARTING between deployments, 404
 * ERR_UNKNOWN_STATE for a state the job does not have.
 *
 * @example
 * const served = servingSubtask(job.queryables, 'clicks', '/checkout')
 */
export function servingSubtask(registry: QueryableRegistry, name: string, key: Key): Served {
  if (!registry.serving) throw restarting()
  if (!registry.has(name))
    throw new HttpError(
      404,
      'ERR_UNKNOWN_STATE',
      `job has no queryable state "${name}" (it has: ${registry.names().join(', ') || 'none'})`,
    )
  const served = registry.route(name, key)
  if (served === undefined) throw restarting()
  return served
}

/**
 * Reads one key of a queryable state in the subtask that owns its key group. A subtask that does not
 * answer within `askTimeoutMs` is busy (503 ERR_SUBTASK_BUSY); one that is gone is restarting. A value
 * that cannot leave its worker thread (structured clone) is a 500 ERR_STATE_NOT_CLONEABLE.
 *
 * @example
 * await lookupState(job.queryables, 'clicks', '/checkout', 2_000) // { key: '/checkout', value: 3 }
 */
export async function lookupState(
  registry: QueryableRegistry,
  name: string,
  key: Key,
  askTimeoutMs: number,
): Promise<LookupAnswer> {
  const served = servingSubtask(registry, name, key)
  let answer: StateAnswer
  try {
    answer = await served.lookup(key, askTimeoutMs)
  } catch (error) {
    throw lookupFailure(error, askTimeoutMs)
  }
  return answered(name, key, answer)
}

/**
 * Reads one key at once in a subtask on this thread (`served.readHere`), with the answers and errors
 * of {@link lookupState} but no promise: the job server's path on the single-thread executor.
 *
 * @example
 * const served = servingSubtask(registry, 'clicks', key)
 * if (served.readHere !== undefined) send(readStateHere(served.readHere, 'clicks', key))
 */
export function readStateHere(readHere: (key: Key) => StateAnswer, name: string, key: Key): LookupAnswer {
  let answer: StateAnswer
  try {
    answer = readHere(key)
  } catch (error) {
    throw lookupFailure(error, 0)
  }
  return answered(name, key, answer)
}

function answered(name: string, key: Key, answer: StateAnswer): LookupAnswer {
  if (!answer.found)
    throw new HttpError(404, 'ERR_KEY_NOT_FOUND', `state "${name}" has no value for key ${JSON.stringify(key)}`)
  return { key, value: answer.value }
}

function lookupFailure(error: unknown, askTimeoutMs: number): HttpError {
  const code = (error as { code?: unknown }).code
  if (code === 'ERR_ASK_TIMEOUT')
    return new HttpError(
      503,
      'ERR_SUBTASK_BUSY',
      `the subtask owning the key did not answer within ${askTimeoutMs} ms; ask again shortly`,
      1,
    )
  if (code === 'ERR_STATE_NOT_CLONEABLE') return new HttpError(500, 'ERR_STATE_NOT_CLONEABLE', (error as Error).message)
  return restarting()
}

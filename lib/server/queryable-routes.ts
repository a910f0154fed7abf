import type { QueryableRegistry } from '../queryable/queryable-registry.js'
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
): Promise<{ key: Key; value: unknown }> {
  if (!registry.serving) throw restarting()
  if (!registry.has(name))
    throw new HttpError(
      404,
      'ERR_UNKNOWN_STATE',
      `job has no queryable state "${name}" (it has: ${registry.names().join(', ') || 'none'})`,
    )
  const served = registry.route(name, key)
  if (served === undefined) throw restarting()
  let answer: { found: boolean; value: unknown }
  try {
    answer = await served.lookup(key, askTimeoutMs)
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_ASK_TIMEOUT')
      throw new HttpError(
        503,
        'ERR_SUBTASK_BUSY',
        `the subtask owning the key did not answer within ${askTimeoutMs} ms; ask again shortly`,
        1,
      )
    if ((error as { code?: unknown }).code === 'ERR_STATE_NOT_CLONEABLE')
      throw new HttpError(500, 'ERR_STATE_NOT_CLONEABLE', (error as Error).message)
    throw restarting()
  }
  if (!answer.found)
    throw new HttpError(404, 'ERR_KEY_NOT_FOUND', `state "${name}" has no value for key ${JSON.stringify(key)}`)
  return { key, value: answer.value }
}

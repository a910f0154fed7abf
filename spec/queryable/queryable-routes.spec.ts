import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorError } from '../../lib/errors.js'
import { QueryableRegistry } from '../../lib/queryable/queryable-registry.js'
import { HttpError } from '../../lib/server/http-error.js'
import { lookupState } from '../../lib/server/queryable-routes.js'
import { KeyGroupRange } from '../../lib/state/key-groups.js'

/** A serving registry whose one subtask's lookup rejects with `code`. */
function failingWith(code: string): QueryableRegistry {
  const registry = new QueryableRegistry()
  registry.register('counts', {
    range: new KeyGroupRange(0, 127),
    maxParallelism: 128,
    lookup: () => Promise.reject(new ActorError(code, `failed with ${code}`)),
  })
  registry.serving = true
  return registry
}

test('a failed lookup answers as its cause: busy, restarting, or a value that cannot leave its thread', async () => {
  const cases: Array<[cause: string, status: number, code: string]> = [
    ['ERR_ASK_TIMEOUT', 503, 'ERR_SUBTASK_BUSY'],
    ['ERR_SUBTASK_STOPPED', 503, 'ERR_JOB_RESTARTING'],
    ['ERR_STATE_NOT_CLONEABLE', 500, 'ERR_STATE_NOT_CLONEABLE'],
  ]
  for (const [cause, status, code] of cases) {
    const error = await lookupState(failingWith(cause), 'counts', 'k', 100).catch((e: unknown) => e)
    assert.instance(error, HttpError)
    assert.is((error as HttpError).status, status)
    assert.is((error as HttpError).code, code)
  }
})

test.run()

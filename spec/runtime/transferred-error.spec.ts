import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { PipelineError, StateError, UserFunctionError } from '../../lib/errors.js'
import { revivedError, transferError } from '../../lib/runtime/workers/transferred-error.js'

/** What reaches the coordinator: the transferred error after a structured clone, as a port sends it. */
const across = (error: unknown): Error => revivedError(structuredClone(transferError(error)))

test('a user function error crosses threads with its class, fields, restart request and cause', () => {
  const original = new UserFunctionError('map', 1, { id: 7 }, new TypeError('boom'), true)
  const revived = across(original)
  assert.instance(revived, UserFunctionError)
  const e = revived as UserFunctionError
  assert.is(e.message, original.message)
  assert.is(e.code, 'ERR_USER_FUNCTION')
  assert.is(e.operator, 'map')
  assert.is(e.subtask, 1)
  assert.is(e.record, '{"id":7}')
  assert.is(e.restartRequested, true)
  assert.is(e.retriable, true)
  assert.is(e.stack, original.stack)
  assert.instance(e.cause, TypeError)
  assert.is((e.cause as Error).message, 'boom')
})

test('pipeline and state errors keep their class and code; anything else comes back as an Error', () => {
  assert.instance(across(new PipelineError('ERR_NO_TIMESTAMP', 'window', 0, 'no timestamp')), PipelineError)
  const state = across(new StateError('ERR_STATE_UNCLAIMED', 'unclaimed'))
  assert.instance(state, StateError)
  assert.is((state as StateError).code, 'ERR_STATE_UNCLAIMED')
  class Custom extends Error {}
  const custom = across(new Custom('mine'))
  assert.ok(!(custom instanceof Custom))
  assert.is(custom.message, 'mine')
  assert.is(across('a string').message, 'a string')
})

test.run()

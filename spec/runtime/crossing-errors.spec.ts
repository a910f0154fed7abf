import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DecodeError } from '../../lib/errors.js'
import {
  errorsForCrossing,
  recordForCrossing,
  revivedErrors,
  revivedRecord,
} from '../../lib/runtime/workers/crossing-errors.js'

/** What another thread receives: a structured clone, as a port sends it. */
const across = <T>(value: T): T => structuredClone(value)

test('a dead letter crossing threads keeps its DecodeError: class, code, raw input and cause', () => {
  const letter = {
    operator: 'decode',
    subtask: 1,
    reason: 'cannot decode',
    record: 'not json',
    error: new DecodeError('cannot decode: bad JSON', 'not json', new SyntaxError('Unexpected token')),
    at: 5,
  }
  assert.not.instance(across(letter).error, DecodeError, 'structured clone alone loses the class')
  const revived = revivedRecord(across(recordForCrossing(letter))) as typeof letter
  assert.instance(revived.error, DecodeError)
  assert.is(revived.error.code, 'ERR_DECODE')
  assert.is(revived.error.raw, 'not json')
  assert.is(revived.error.message, 'cannot decode: bad JSON')
  assert.instance(revived.error.cause, SyntaxError)
  assert.equal({ ...revived, error: undefined }, { ...letter, error: undefined })
  assert.instance(letter.error, DecodeError, "the sender's record is not changed")
})

test('records without errors cross as they are, with nothing copied; a batch revives only what held errors', () => {
  const plain = [1, 'a', { a: 1 }, [new Error('in an array: not looked at')], null, undefined]
  assert.is(errorsForCrossing(plain), undefined)
  const values: unknown[] = [1, new RangeError('a record that is an error'), { n: 2, error: new DecodeError('x', 'y') }]
  const encoded = errorsForCrossing(values)!
  assert.is.not(encoded, values)
  assert.instance(values[1], RangeError, "the sender's batch is not changed")
  const received = across(encoded)
  revivedErrors(received)
  assert.is(received[0], 1)
  assert.instance(received[1], RangeError)
  assert.is((received[1] as Error).message, 'a record that is an error')
  assert.instance((received[2] as { error: unknown }).error, DecodeError)
  assert.is((received[2] as { n: number }).n, 2)
})

test.run()

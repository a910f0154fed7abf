import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Deferred } from '../../lib/util/deferred.js'

test('resolves its promise later, once; settled says so', async () => {
  const d = new Deferred<number>()
  assert.is(d.settled, false)
  d.resolve(1)
  d.resolve(2)
  d.reject(new Error('late'))
  assert.is(d.settled, true)
  assert.is(await d.promise, 1)
})

test('rejects its promise with the reason given', async () => {
  const d = new Deferred()
  const boom = new Error('boom')
  d.reject(boom)
  try {
    await d.promise
    assert.unreachable()
  } catch (error) {
    assert.is(error, boom)
  }
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../lib/errors.js'
import { backoffDelay, validateBackoff } from '../../lib/actors/backoff.js'

test('grows by the factor per attempt, starting at minMs', () => {
  const options = { minMs: 100, maxMs: 100_000 }
  assert.equal(
    [0, 1, 2, 3].map((attempt) => backoffDelay(attempt, options)),
    [100, 200, 400, 800],
  )
  assert.equal(
    [0, 1, 2].map((attempt) => backoffDelay(attempt, { ...options, factor: 3 })),
    [100, 300, 900],
  )
})

test('caps the delay at maxMs, even for attempts whose power overflows', () => {
  const options = { minMs: 100, maxMs: 1_000 }
  assert.is(backoffDelay(4, options), 1_000)
  assert.is(backoffDelay(5_000, options), 1_000)
  assert.is(backoffDelay(5_000, { minMs: 0, maxMs: 1_000 }), 0)
})

test('spreads the delay by ± jitter and clamps it back into [minMs, maxMs]', () => {
  const options = { minMs: 100, maxMs: 1_000, jitter: 0.5 }
  // random() = 0 → −50 %, 0.5 → 0 %, 1 → +50 %
  assert.is(
    backoffDelay(2, options, () => 0),
    200,
  )
  assert.is(
    backoffDelay(2, options, () => 0.5),
    400,
  )
  assert.is(
    backoffDelay(2, options, () => 1),
    600,
  )
  assert.is(
    backoffDelay(0, options, () => 0),
    100,
    'never below minMs',
  )
  assert.is(
    backoffDelay(4, options, () => 1),
    1_000,
    'never above maxMs',
  )
})

test('ignores random when jitter is 0', () => {
  let calls = 0
  backoffDelay(1, { minMs: 10, maxMs: 100 }, () => (calls++, 0.9))
  assert.is(calls, 0)
})

test('rejects invalid options, naming the option', () => {
  const cases: Array<[object, string]> = [
    [{ minMs: -1, maxMs: 10 }, 'backoff.minMs'],
    [{ minMs: 10, maxMs: 5 }, 'backoff.maxMs'],
    [{ minMs: 1, maxMs: 10, factor: 0.5 }, 'backoff.factor'],
    [{ minMs: 1, maxMs: 10, jitter: 1.5 }, 'backoff.jitter'],
  ]
  for (const [options, option] of cases) {
    try {
      validateBackoff(options as never)
      assert.unreachable(`${JSON.stringify(options)} accepted`)
    } catch (error) {
      assert.instance(error, ConfigError)
      assert.is((error as ConfigError).option, option)
    }
  }
  validateBackoff({ minMs: 0, maxMs: 0 })
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../lib/errors.js'
import { backoffDelay, validateBackoff } from '../../lib/util/backoff.js'

test('grows by the multiplier per attempt, starting at initialDelayMs', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 100_000 }
  assert.equal(
    [0, 1, 2, 3].map((attempt) => backoffDelay(attempt, options)),
    [100, 200, 400, 800],
  )
  assert.equal(
    [0, 1, 2].map((attempt) => backoffDelay(attempt, { ...options, multiplier: 3 })),
    [100, 300, 900],
  )
})

test('caps the delay at maxDelayMs, even for attempts whose power overflows', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 1_000 }
  assert.is(backoffDelay(4, options), 1_000)
  assert.is(backoffDelay(5_000, options), 1_000)
  assert.is(backoffDelay(5_000, { initialDelayMs: 0, maxDelayMs: 1_000 }), 0)
})

test('spreads the delay over [d·(1−jitter), d·(1+jitter)] and never above maxDelayMs', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 1_000, jitter: 0.5 }
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
    50,
    'the first delay spreads below initialDelayMs too',
  )
  assert.is(
    backoffDelay(4, options, () => 1),
    1_000,
    'never above maxDelayMs',
  )
  for (let i = 0; i < 1_000; i++) {
    const d = backoffDelay(1, options)
    assert.ok(d >= 100 && d <= 300, `${d} in [100, 300]`)
  }
})

test('ignores random when jitter is 0', () => {
  let calls = 0
  backoffDelay(1, { initialDelayMs: 10, maxDelayMs: 100 }, () => (calls++, 0.9))
  assert.is(calls, 0)
})

test('validation applies the defaults and rejects invalid options, naming the option under its path', () => {
  assert.equal(validateBackoff('x', { initialDelayMs: 0, maxDelayMs: 0 }), {
    initialDelayMs: 0,
    maxDelayMs: 0,
    multiplier: 2,
    jitter: 0,
  })
  const cases: Array<[object, string]> = [
    [{ initialDelayMs: -1, maxDelayMs: 10 }, 'backoff.initialDelayMs'],
    [{ initialDelayMs: 10, maxDelayMs: 5 }, 'backoff.maxDelayMs'],
    [{ initialDelayMs: 1, maxDelayMs: 10, multiplier: 0.5 }, 'backoff.multiplier'],
    [{ initialDelayMs: 1, maxDelayMs: 10, jitter: 1.5 }, 'backoff.jitter'],
    [{ initialDelayMs: '1', maxDelayMs: 10 }, 'backoff.initialDelayMs'],
  ]
  for (const [options, option] of cases) {
    try {
      validateBackoff('backoff', options as never)
      assert.unreachable(`${JSON.stringify(options)} accepted`)
    } catch (error) {
      assert.instance(error, ConfigError)
      assert.is((error as ConfigError).option, option)
    }
  }
})

test.run()

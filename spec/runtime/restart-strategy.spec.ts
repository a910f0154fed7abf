import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { decideRestart, validateRestartStrategy } from '../../lib/runtime/restart-strategy.js'

test('none never restarts', () => {
  assert.equal(decideRestart({ kind: 'none' }, [1]), { restart: false })
})

test('fixed delay restarts up to its attempts', () => {
  const s = { kind: 'fixed-delay', attempts: 2, delayMs: 7 } as const
  assert.equal(decideRestart(s, [1]), { restart: true, delayMs: 7 })
  assert.equal(decideRestart(s, [1, 2]), { restart: true, delayMs: 7 })
  assert.equal(decideRestart(s, [1, 2, 3]), { restart: false })
})

test('exponential backoff doubles up to its maximum and honours jitter and max attempts', () => {
  const s = { kind: 'exponential-backoff', initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 4 } as const
  assert.equal(
    [1, 2, 3, 4].map((n) => decideRestart(s, Array(n).fill(0))),
    [10, 20, 40, 50].map((delayMs) => ({ restart: true, delayMs })),
  )
  assert.equal(decideRestart(s, Array(5).fill(0)), { restart: false })
  const jittered = decideRestart({ ...s, jitter: 0.5 }, [0], () => 1) as { delayMs: number }
  assert.is(jittered.delayMs, 15)
})

test('the deprecated factor is read as multiplier', () => {
  const s = validateRestartStrategy({ kind: 'exponential-backoff', initialDelayMs: 10, maxDelayMs: 500, factor: 3 })
  assert.equal(s, { kind: 'exponential-backoff', initialDelayMs: 10, maxDelayMs: 500, multiplier: 3 })
  assert.equal(
    [1, 2, 3].map((n) => decideRestart(s, Array(n).fill(0))),
    [10, 30, 90].map((delayMs) => ({ restart: true, delayMs })),
  )
})

test('failure rate restarts while failures within the interval stay under the limit', () => {
  const s = { kind: 'failure-rate', maxFailures: 2, intervalMs: 100, delayMs: 5 } as const
  assert.equal(decideRestart(s, [0, 50]), { restart: true, delayMs: 5 })
  assert.equal(decideRestart(s, [0, 50, 90]), { restart: false })
  assert.equal(decideRestart(s, [0, 50, 200]), { restart: true, delayMs: 5 })
})

test.run()

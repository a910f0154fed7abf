import * as assert from 'uvu/assert'
import { suite } from 'uvu'
import { connectWithRetry } from '../../../lib/connectors/base/connect-retry.js'
import { retrySchedule } from '../../../lib/connectors/base/retry-options.js'
import { ConnectorError } from '../../../lib/errors.js'
import { ManualClock } from '../../time/manual-clock.js'

const turn = () => new Promise((resolve) => setImmediate(resolve))

const retry = suite('connect retry')

retry('retries a failed connection on the schedule and returns the connection', async () => {
  const clock = new ManualClock()
  const delays: number[] = []
  let attempts = 0
  const connecting = connectWithRetry(
    async () => {
      if (++attempts < 3) throw new Error('ECONNREFUSED')
      return 'connection'
    },
    retrySchedule('s.retry', { initialDelayMs: 100 }),
    { target: 'toy source: host h', clock, closed: () => false, onRetry: (_, ms) => void delays.push(ms) },
  )
  await turn()
  assert.is(attempts, 1)
  clock.advanceBy(99)
  await turn()
  assert.is(attempts, 1, 'waits the first delay')
  clock.advanceBy(1)
  await turn()
  clock.advanceBy(200)
  assert.is(await connecting, 'connection')
  assert.is(attempts, 3)
  assert.equal(delays, [100, 200], 'the delay doubles')
})

retry('fails with ERR_CONNECT naming the target and the attempts once the retries are used up', async () => {
  const clock = new ManualClock()
  const refused = new Error('connect ECONNREFUSED 127.0.0.1:1')
  const connecting = connectWithRetry(
    () => Promise.reject(refused),
    retrySchedule('s.retry', { maxRetries: 1, initialDelayMs: 10 }),
    { target: 'kafka source: brokers 127.0.0.1:1 (topics orders)', clock, closed: () => false },
  )
  await turn()
  clock.advanceBy(10)
  try {
    await connecting
    assert.unreachable('should fail')
  } catch (error) {
    assert.instance(error, ConnectorError)
    const e = error as ConnectorError
    assert.is(e.code, 'ERR_CONNECT')
    assert.is(
      e.message,
      'kafka source: brokers 127.0.0.1:1 (topics orders): cannot connect after 2 attempt(s): connect ECONNREFUSED 127.0.0.1:1',
    )
    assert.is(e.cause, refused)
    assert.ok(e.retriable)
  }
})

retry('makes no further attempt once its owner closed', async () => {
  let closed = false
  let attempts = 0
  const clock = new ManualClock()
  const connecting = connectWithRetry(
    () => {
      attempts++
      closed = true
      return Promise.reject(new Error('down'))
    },
    retrySchedule('s.retry', { maxRetries: Infinity }),
    { target: 't', clock, closed: () => closed },
  )
  await connecting.then(
    () => assert.unreachable(),
    (e: ConnectorError) => assert.is(e.code, 'ERR_CONNECT'),
  )
  assert.is(attempts, 1)
})

retry.run()

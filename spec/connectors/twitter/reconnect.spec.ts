import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { XStreamServer } from '../../support/x-stream-server.js'
import { waitFor } from '../../support/wait-for.js'
import { ManualClock } from '../../time/manual-clock.js'
import { TweetDriver } from './reader-driver.js'

/**
 * X's reconnect guidance, with the reader's timers on a ManualClock (no test sleeps): linear backoff
 * for network errors, exponential for HTTP errors, a 429 with the rate window used up waits until
 * x-rate-limit-reset, and silence longer than stallTimeoutMs is a stall. Each step moves the clock to
 * just before a retry is due (no attempt) and then to it (the attempt is made at once).
 */
const Reconnect = suite('twitter reconnect policy')
let x: XStreamServer
const token = 'reconnect-test-token'

Reconnect.before(async () => {
  x = await XStreamServer.start({ token })
})
Reconnect.after(async () => {
  await x.close()
})
Reconnect.before.each(async () => {
  await waitFor(() => x.connections === 0, { timeoutMs: 5000 })
  x.requests.length = 0
})

/** Waits until `d` has seen `n` failed connection attempts (so the retry is scheduled). */
const failed = (d: TweetDriver, n: number) =>
  waitFor(() => d.metric('failedAttempts') >= n, {
    timeoutMs: 5000,
    description: () => `${d.metric('failedAttempts')} failed attempts of ${n}`,
  })

/** Moves the clock by `delay - 1` (no attempt yet), then by 1 (the attempt). */
function expectRetryAfter(clock: ManualClock, d: TweetDriver, delay: number): void {
  const attempts = d.metric('connectAttempts')
  clock.advanceBy(delay - 1)
  assert.is(d.metric('connectAttempts'), attempts, `no attempt before ${delay} ms`)
  clock.advanceBy(1)
  assert.is(d.metric('connectAttempts'), attempts + 1, `an attempt at ${delay} ms`)
}

Reconnect('HTTP errors back off exponentially: initialDelayMs, then doubling', async () => {
  const clock = new ManualClock(Date.now())
  x.failNextStreams({ status: 503 }, { status: 503 }, { status: 503 })
  const d = TweetDriver.start(
    { bearerToken: token, baseUrl: x.baseUrl, stream: 'sample', retry: { initialDelayMs: 5000, maxDelayMs: 320_000 } },
    undefined,
    clock,
  )
  try {
    for (const [n, delay] of [
      [1, 5000],
      [2, 10_000],
      [3, 20_000],
    ] as const) {
      await failed(d, n)
      expectRetryAfter(clock, d, delay)
    }
    await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
    assert.is(x.streamRequests().length, 4)
  } finally {
    await d.close()
  }
})

Reconnect('a 429 with the rate window used up waits until x-rate-limit-reset, not the HTTP backoff', async () => {
  const start = Date.now()
  const clock = new ManualClock(start)
  x.failNextStreams({ status: 429, resetInSeconds: 30 })
  const d = TweetDriver.start(
    { bearerToken: token, baseUrl: x.baseUrl, stream: 'sample', retry: { initialDelayMs: 10 } },
    undefined,
    clock,
  )
  try {
    await failed(d, 1)
    clock.advanceTo(start + 29_000)
    assert.is(
      d.metric('connectAttempts'),
      1,
      'no retry before the reset (the HTTP backoff would have retried after 10 ms)',
    )
    clock.advanceTo(Date.now() + 32_000)
    assert.is(d.metric('connectAttempts'), 2, 'a retry once the reset passed')
    await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
  } finally {
    await d.close()
  }
})

Reconnect('a 429 for too many connections (requests left) backs off from rateLimitDelayMs, doubling', async () => {
  const clock = new ManualClock(Date.now())
  const first = TweetDriver.start({ bearerToken: token, baseUrl: x.baseUrl, stream: 'sample' })
  await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
  const d = TweetDriver.start(
    { bearerToken: token, baseUrl: x.baseUrl, stream: 'sample', rateLimitDelayMs: 60_000 },
    undefined,
    clock,
  )
  try {
    await failed(d, 1)
    expectRetryAfter(clock, d, 60_000)
    await failed(d, 2)
    expectRetryAfter(clock, d, 120_000)
    await failed(d, 3)
    await first.close()
    await waitFor(() => x.connections === 0, { timeoutMs: 5000 })
    expectRetryAfter(clock, d, 240_000)
    await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
  } finally {
    await d.close()
    await first.close()
  }
})

Reconnect('network errors (a lost stream, refused connections) back off linearly by networkDelayStepMs', async () => {
  const clock = new ManualClock(Date.now())
  const d = TweetDriver.start(
    { bearerToken: token, baseUrl: x.baseUrl, stream: 'sample', networkDelayStepMs: 250, networkMaxDelayMs: 16_000 },
    undefined,
    clock,
  )
  try {
    await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
    await x.stop()
    await waitFor(() => d.logs.some((l) => l.includes('twitter stream lost')), { timeoutMs: 5000 })
    expectRetryAfter(clock, d, 250)
    await failed(d, 1)
    expectRetryAfter(clock, d, 500)
    await failed(d, 2)
    expectRetryAfter(clock, d, 750)
    await failed(d, 3)
    await x.restart()
    expectRetryAfter(clock, d, 1000)
    await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
  } finally {
    await d.close()
  }
})

Reconnect('silence longer than stallTimeoutMs is a stall: reconnect; keep-alives hold the stream', async () => {
  const clock = new ManualClock(Date.now())
  const d = TweetDriver.start(
    { bearerToken: token, baseUrl: x.baseUrl, stream: 'sample', networkDelayStepMs: 250 },
    undefined,
    clock,
  )
  try {
    await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
    for (let i = 1; i <= 5; i++) {
      x.keepAlive()
      await waitFor(() => d.metric('keepAlives') === i, { timeoutMs: 5000 })
      clock.advanceBy(15_000)
    }
    assert.is(d.metric('stalls'), 0, '75 s with a keep-alive every 15 s: no stall')
    // the last keep-alive came 15 s ago
    clock.advanceBy(4_999)
    assert.is(d.metric('stalls'), 0)
    clock.advanceBy(1)
    assert.is(d.metric('stalls'), 1, '20 s of silence: a stall')
    await waitFor(() => x.connections === 0, { timeoutMs: 5000 })
    expectRetryAfter(clock, d, 250)
    await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
    const ids = x.publish(2).map((t) => t.id)
    await waitFor(() => d.records.length >= 2)
    assert.equal(d.ids, ids)
  } finally {
    await d.close()
  }
})

Reconnect.run()

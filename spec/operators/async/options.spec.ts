import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../../lib/errors.js'
import { asyncMap, asyncMetrics, orderedWait, sharedLimiter, unorderedWait } from '../../../lib/operators/async-map.js'
import { type AsyncIoMetricsSnapshot, LatencyWindow } from '../../../lib/operators/async/async-io-metrics.js'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import { runEmbedded } from '../../support/modes.js'
import { FakeService } from './async-support.js'

const echo = async (x: number) => x

function optionOf(build: () => unknown): string | undefined {
  try {
    build()
  } catch (error) {
    if (error instanceof ConfigError) return error.option
    throw error
  }
  return undefined
}

test('options are checked when the operator is built, and the error names the option', () => {
  assert.is(
    optionOf(() => asyncMap(echo, { capacity: 0 })),
    'asyncMap.capacity',
  )
  assert.is(
    optionOf(() => asyncMap(echo, { capacity: 2.5 })),
    'asyncMap.capacity',
  )
  assert.is(
    optionOf(() => orderedWait(echo, { capacity: -1 })),
    'orderedWait.capacity',
  )
  assert.is(
    optionOf(() => asyncMap(echo, { ordered: 'yes' as never })),
    'asyncMap.ordered',
  )
  assert.is(
    optionOf(() => asyncMap(echo, { timeoutMs: 0 })),
    'asyncMap.timeoutMs',
  )
  assert.is(
    optionOf(() => asyncMap(echo, { timeoutMs: 10, onTimeout: 'ignore' as never })),
    'asyncMap.onTimeout',
  )
  assert.is(
    optionOf(() => asyncMap(echo, { onTimeout: { fallback: () => 0 } })),
    'asyncMap.onTimeout',
    'a timeout policy without a timeout',
  )
  assert.is(
    optionOf(() => asyncMap(echo, { limiter: { run: () => 0 } as never })),
    'asyncMap.limiter',
  )
  assert.is(
    optionOf(() => asyncMap(echo, { concurrency: 4 } as never)),
    'asyncMap.concurrency',
    'unknown keys are refused',
  )
  assert.is(
    optionOf(() => unorderedWait(echo, { ordered: true } as never)),
    'unorderedWait.ordered',
  )
  assert.is(
    optionOf(() => asyncMap('nope' as never)),
    'asyncMap',
  )
  assert.is(
    optionOf(() => sharedLimiter(0)),
    'sharedLimiter.concurrency',
  )
  assert.is(
    optionOf(() =>
      asyncMap(echo, {
        timeoutMs: 5,
        onTimeout: { fallback: () => 0 },
        capacity: 3,
        ordered: false,
        name: 'fine',
        onError: 'resume',
      }),
    ),
    undefined,
  )
})

test('operator options are checked at the same time', () => {
  assert.is(
    optionOf(() => asyncMap(echo, { parallelism: 0 })),
    'asyncMap.parallelism',
  )
  assert.is(
    optionOf(() => unorderedWait(echo, { onError: 'ignore' as never })),
    'unorderedWait.onError',
  )
})

test('metrics count completions, retries, failures and in-flight requests per operator subtask, with latency percentiles', async () => {
  const svc = new FakeService(
    (x: number) => x,
    (x) => (x < 90 ? 2 : 12),
  )
  let failedOnce = false
  const call = async (x: number, signal: AbortSignal) => {
    if (x === 5 && !failedOnce) {
      failedOnce = true
      throw new Error('once')
    }
    return svc.call(x, signal)
  }
  const input = Array.from({ length: 100 }, (_, i) => i)
  const env = StreamEnvironment.create({ logLevel: 'silent', parallelism: 2 })
  env
    .fromCollection(input)
    .pipe(
      asyncMap(call, {
        capacity: 10,
        name: 'measured',
        retry: { strategy: 'fixed-delay', delayMs: 1, maxAttempts: 2 },
      }),
    )
    .sinkTo(new CallbackSink(() => {}))
  // the job's own metrics (its subtasks may run in worker threads, whose asyncMetrics registry is theirs)
  const { metrics } = await env.executeAsync().result
  const all = (metrics?.details ?? [])
    .map((d) => d.metrics as unknown as AsyncIoMetricsSnapshot)
    .filter((m) => m.operator === 'measured')
    .sort((a, b) => a.subtask - b.subtask)
  assert.equal(
    all.map((m) => m.subtask),
    [0, 1],
  )
  const total = (key: 'completed' | 'retries' | 'failures' | 'inFlight' | 'held') => all.reduce((n, m) => n + m[key], 0)
  assert.is(total('completed'), 100)
  assert.is(total('retries'), 1)
  assert.is(total('failures'), 0)
  assert.is(total('inFlight'), 0, 'nothing left in flight at the end')
  assert.is(total('held'), 0)
  const snapshot = all[0]
  assert.is(snapshot?.capacity, 10)
  assert.ok(snapshot !== undefined && snapshot.maxInFlight >= 1 && snapshot.maxInFlight <= 10)
  const latency = all.map((m) => m.latencyMs)
  for (const l of latency) {
    assert.ok(l.samples > 0)
    assert.ok(l.p50 >= 1 && l.p50 <= l.p95 && l.p95 <= l.p99, `p50 ${l.p50} ≤ p95 ${l.p95} ≤ p99 ${l.p99}`)
  }
  assert.ok(Math.max(...latency.map((l) => l.p99)) >= 11, 'the slow tail shows in p99')
})

test('the latency window keeps the most recent 1,024 requests and reads nearest-rank percentiles', () => {
  const w = new LatencyWindow()
  assert.equal(w.percentiles(), { p50: 0, p95: 0, p99: 0, samples: 0 })
  for (let i = 1; i <= 100; i++) w.record(i)
  assert.equal(w.percentiles(), { p50: 50, p95: 95, p99: 99, samples: 100 })
  for (let i = 0; i < 2_000; i++) w.record(1_000)
  assert.equal(w.percentiles(), { p50: 1_000, p95: 1_000, p99: 1_000, samples: 1_024 })
})

test('the registry shows the live counters while the job runs', async () => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  const run = runEmbedded<number>(
    [1, 2, 3, 4],
    asyncMap(
      async (x: number) => {
        await gate
        return x
      },
      { capacity: 3, name: 'live' },
    ),
  )
  await new Promise((resolve) => setImmediate(resolve))
  const [m] = asyncMetrics('live')
  assert.equal(
    [m!.inFlight, m!.queued, m!.held],
    [3, 1, 4],
    'embedded mode follows the source: the fourth record waits, unstarted',
  )
  release()
  assert.equal(await run, [1, 2, 3, 4])
  assert.equal([m!.inFlight, m!.queued, m!.held, m!.completed], [0, 0, 0, 4])
})

test.run()

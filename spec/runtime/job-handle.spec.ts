import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Subject, take, toArray, lastValueFrom } from 'rxjs'
import { StreamEnvironment, map } from '../../lib/index.js'
import { ConfigError } from '../../lib/errors.js'
import { createLogger } from '../../lib/logging.js'
import type { JobMetricsSnapshot } from '../../lib/runtime/job-metrics.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { waitFor } from '../support/wait-for.js'

test('a job output is an Observable; unsubscribing cancels the job', async () => {
  const lines: Array<{ msg: string }> = []
  const env = StreamEnvironment.create({
    logger: createLogger({ level: 'info', write: (line) => lines.push(JSON.parse(line)) }),
  })
  const firstFive = await lastValueFrom(
    env
      .fromSequence(1, 1_000_000_000)
      .pipe(map((x: number) => x * 2))
      .toObservable()
      .pipe(take(5), toArray()),
  )
  assert.equal(firstFive, [2, 4, 6, 8, 10])
  await waitFor(() => lines.some((l) => l.msg === 'job cancelled'), {
    description: () => `a "job cancelled" line after take(5) unsubscribed; lines: ${lines.map((l) => l.msg)}`,
  })
  assert.not.ok(
    lines.some((l) => l.msg === 'job finished'),
    'cancelled, not run to the end of its billion records',
  )
})

test('cancel stops an unbounded job and resolves its result as cancelled', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  const source = new Subject<number>()
  const seen: number[] = []
  env.fromObservable(source).sinkTo(new CallbackSink((v: number) => seen.push(v)))
  const job = env.executeAsync('endless')
  await job.running
  source.next(1)
  await waitFor(() => seen.length === 1)
  await job.cancel()
  const result = await job.result
  assert.is(result.status, 'cancelled')
  source.next(2)
  assert.equal(seen, [1])
})

test('metrics count records per operator and report flow control', async () => {
  const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent' })
  env
    .fromSequence(1, 10_000)
    .pipe(map((x: number) => x, { name: 'identity', uid: 'identity' }))
    .sinkTo(new CallbackSink(() => {}), { uid: 'sink' })
  const { metrics } = await env.execute()
  const identity = metrics.operators.find((o) => o.operator === 'identity')!
  assert.is(identity.recordsIn, 10_000)
  assert.is(identity.recordsOut, 10_000)
  assert.is(metrics.operators.find((o) => o.operator === 'sink')!.recordsIn, 10_000)
  assert.is(metrics.subtasks.length, 2)
  for (const s of metrics.subtasks) assert.is(s.status, 'finished')
})

test('progress emits metrics snapshots that follow the job, and completes when it ends', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  const source = new Subject<number>()
  env.fromObservable(source).sinkTo(new CallbackSink(() => {}), { uid: 'sink' })
  const job = env.executeAsync()
  await job.running
  const snapshots: JobMetricsSnapshot[] = []
  let completed = false
  job.progress(5).subscribe({ next: (m) => snapshots.push(m), complete: () => (completed = true) })
  const written = (m: JobMetricsSnapshot) => m.operators.find((o) => o.operator === 'sink')?.recordsIn
  source.next(1)
  await waitFor(() => snapshots.some((m) => written(m) === 1), { description: 'a snapshot with 1 record written' })
  source.next(2)
  source.next(3)
  await waitFor(() => snapshots.some((m) => written(m) === 3), { description: 'a later snapshot with 3 written' })
  const counts = snapshots.map((m) => written(m) ?? 0)
  assert.equal(
    counts,
    [...counts].sort((a, b) => a - b),
    'records written never go back',
  )
  for (let i = 1; i < snapshots.length; i++) assert.ok(snapshots[i]!.elapsedMs >= snapshots[i - 1]!.elapsedMs)
  source.complete()
  await job.result
  assert.ok(completed, 'progress completes with the job')
})

test('a failed job nobody awaits is no unhandled rejection; a handler attached later still gets the failure', async () => {
  const unhandled: unknown[] = []
  const record = (reason: unknown) => unhandled.push(reason)
  process.on('unhandledRejection', record)
  try {
    const lines: Array<{ msg: string }> = []
    const env = StreamEnvironment.create({
      logger: createLogger({ level: 'error', write: (line) => lines.push(JSON.parse(line)) }),
    })
    env
      .fromSequence(1, 10)
      .pipe(
        map((x: number) => {
          if (x === 3) throw new Error('boom at 3')
          return x
        }),
      )
      .sinkTo(new CallbackSink(() => {}))
    const job = env.executeAsync('fails unobserved')
    await waitFor(() => lines.some((l) => l.msg === 'job failed'))
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(unhandled, [], 'no unhandled rejection')
    const error = await job.result.then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    assert.match(String(error?.message), 'boom at 3')
  } finally {
    process.off('unhandledRejection', record)
  }
})

test('invalid environment options fail at create time, naming the option and value', () => {
  assert.throws(
    () => StreamEnvironment.create({ parallelism: 0 }),
    (e: unknown) => e instanceof ConfigError && e.option === 'parallelism' && /0/.test(e.message),
  )
  assert.throws(
    () => StreamEnvironment.create({ parallelism: 300 }),
    (e: unknown) => e instanceof ConfigError && e.option === 'parallelism',
  )
  assert.throws(
    () => StreamEnvironment.create({ batchSize: 1.5 }),
    (e: unknown) => e instanceof ConfigError && e.option === 'batchSize',
  )
  assert.throws(
    () => StreamEnvironment.create({ restartStrategy: { kind: 'fixed-delay', attempts: -1, delayMs: 0 } }),
    (e: unknown) => e instanceof ConfigError && e.option === 'restartStrategy.attempts',
  )
  assert.throws(
    () => StreamEnvironment.create({ restartStrategy: { kind: 'sometimes' } as never }),
    (e: unknown) => e instanceof ConfigError && e.option === 'restartStrategy.kind',
  )
})

test('a job without sinks fails when built', () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env.fromElements(1)
  assert.throws(
    () => env.executeAsync(),
    (e: unknown) => e instanceof ConfigError && /sink/.test(e.message),
  )
})

test('duplicate uids fail when the job is built', () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env
    .fromElements(1)
    .pipe(
      map((x: number) => x, { uid: 'same' }),
      map((x: number) => x, { uid: 'same' }),
    )
    .sinkTo(new CallbackSink(() => {}))
  assert.throws(
    () => env.executeAsync(),
    (e: unknown) => e instanceof ConfigError && /uid/.test(e.message),
  )
})

test.run()

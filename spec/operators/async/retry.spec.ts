import { from, lastValueFrom, type OperatorFunction, toArray } from 'rxjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { EmbeddedStream } from '../../../lib/api/embedded-stream.js'
import { ConfigError, type SluiceError, UserFunctionError } from '../../../lib/errors.js'
import { asyncMap, asyncMetrics } from '../../../lib/operators/async-map.js'
import { retryDelayMs, type ExponentialBackoffRetry } from '../../../lib/operators/async/retry-strategy.js'
import { DEAD_LETTERS, type DeadLetter } from '../../../lib/runtime/output-tag.js'
import { runEmbedded } from '../../support/modes.js'
import { AsyncWaitOperator } from '../../../lib/operators/async/async-wait-operator.js'
import { resolveAsyncOptions } from '../../../lib/operators/async/async-options.js'
import { OperatorHarness } from '../../windows/operator-harness.js'
import { waitFor } from '../../support/wait-for.js'
import { sleep } from './async-support.js'

/** Runs with dead letters collected. */
async function withDeadLetters<T>(
  input: unknown[],
  op: OperatorFunction<any, T>,
): Promise<{ out: T[]; letters: DeadLetter[] }> {
  const out$ = from(input).pipe(op) as EmbeddedStream<T>
  const letters: DeadLetter[] = []
  out$.sideOutput(DEAD_LETTERS).subscribe((l) => letters.push(l))
  return { out: await lastValueFrom(out$.pipe(toArray())), letters }
}

/** A function that fails its first `failures` calls per record, writing down when each call came. */
function flaky(failures: number) {
  const callsAt = new Map<number, number[]>()
  const call = async (x: number) => {
    const times = callsAt.get(x) ?? []
    times.push(performance.now())
    callsAt.set(x, times)
    await sleep(0)
    if (times.length <= failures) throw new Error(`attempt ${times.length} of ${x} failed`)
    return x * 10
  }
  const gaps = (x: number) =>
    callsAt
      .get(x)!
      .slice(1)
      .map((t, i) => t - callsAt.get(x)![i]!)
  return { call, callsAt, gaps }
}

const backoff: ExponentialBackoffRetry<unknown> = {
  strategy: 'exponential-backoff',
  initialDelayMs: 10,
  maxDelayMs: 50,
  maxAttempts: 9,
}

test('backoff math: fixed delay, exponential growth capped at maxDelayMs, multiplier', () => {
  assert.equal(
    [1, 2, 5].map((n) => retryDelayMs({ strategy: 'fixed-delay', delayMs: 7, maxAttempts: 3 }, n)),
    [7, 7, 7],
  )
  assert.equal(
    [1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(backoff, n)),
    [10, 20, 40, 50, 50, 50],
  )
  assert.equal(
    [1, 2, 3].map((n) => retryDelayMs({ ...backoff, multiplier: 3, maxDelayMs: 1_000 }, n)),
    [10, 30, 90],
  )
})

test('backoff math: jitter draws from [d·(1−j), d·(1+j)], never above maxDelayMs', () => {
  const jittered = { ...backoff, jitter: 0.5 }
  assert.is(
    retryDelayMs(jittered, 1, () => 0),
    5,
  )
  assert.is(
    retryDelayMs(jittered, 2, () => 0.5),
    20,
  )
  assert.ok(Math.abs(retryDelayMs(jittered, 2, () => 0.999999) - 30) < 0.001)
  assert.is(
    retryDelayMs(jittered, 3, () => 0.999999),
    50,
    'capped: 40 × 1.5 > maxDelayMs',
  )
  for (let i = 0; i < 1_000; i++) {
    const d = retryDelayMs(jittered, 2)
    assert.ok(d >= 10 && d < 30, `${d} in [10, 30)`)
  }
})

test('fixed-delay retry calls again after the delay until a call succeeds', async () => {
  const f = flaky(2)
  const out = await runEmbedded<number>(
    [1, 2, 3],
    asyncMap(f.call, { retry: { strategy: 'fixed-delay', delayMs: 15, maxAttempts: 3 }, name: 'fixed' }),
  )
  assert.equal(out, [10, 20, 30])
  for (const x of [1, 2, 3]) {
    assert.is(f.callsAt.get(x)!.length, 3)
    for (const gap of f.gaps(x)) assert.ok(gap >= 14, `waited ${gap.toFixed(1)} ms ≥ 15 ms between attempts`)
  }
  assert.is(asyncMetrics('fixed')[0]!.retries, 6)
})

test('exponential backoff with jitter waits within the jitter bounds of each step', async () => {
  const f = flaky(3)
  const retry: ExponentialBackoffRetry<number> = {
    strategy: 'exponential-backoff',
    initialDelayMs: 10,
    maxDelayMs: 100,
    multiplier: 2,
    jitter: 0.5,
    maxAttempts: 4,
  }
  assert.equal(await runEmbedded<number>([7], asyncMap(f.call, { retry })), [70])
  const gaps = f.gaps(7)
  assert.is(gaps.length, 3)
  const bases = [10, 20, 40]
  // Timers never fire early, so the lower bounds hold exactly; a busy machine can delay them, so the
  // upper bounds get slack here (the backoff math test checks them exactly).
  gaps.forEach((gap, i) => {
    assert.ok(gap >= bases[i]! * 0.5 - 1, `retry ${i + 1}: ${gap.toFixed(1)} ms ≥ ${bases[i]! * 0.5}`)
    assert.ok(gap <= bases[i]! * 1.5 + 100, `retry ${i + 1}: ${gap.toFixed(1)} ms ≤ ${bases[i]! * 1.5} (+ timer slack)`)
  })
})

test('retryOnResult retries an unwanted answer; when attempts run out the last answer is emitted', async () => {
  const calls = new Map<string, number>()
  const call = async (job: string) => {
    const n = (calls.get(job) ?? 0) + 1
    calls.set(job, n)
    return { job, ready: job === 'quick' ? n >= 2 : false, attempt: n }
  }
  const retry = {
    strategy: 'fixed-delay',
    delayMs: 1,
    maxAttempts: 3,
    retryOnResult: (r: { ready: boolean }) => !r.ready,
  } as const
  const out = await runEmbedded<{ job: string; ready: boolean; attempt: number }>(
    ['quick', 'never'],
    asyncMap(call, { retry }),
  )
  assert.equal(out, [
    { job: 'quick', ready: true, attempt: 2 },
    { job: 'never', ready: false, attempt: 3 },
  ])
})

test('retryOnError decides which errors are retried', async () => {
  const calls = new Map<string, number>()
  const call = async (x: string) => {
    const n = (calls.get(x) ?? 0) + 1
    calls.set(x, n)
    if (x === 'transient' && n === 1) throw Object.assign(new Error('try later'), { code: 'TRANSIENT' })
    if (x === 'fatal') throw Object.assign(new Error('no such key'), { code: 'FATAL' })
    return x.toUpperCase()
  }
  const retry = {
    strategy: 'fixed-delay',
    delayMs: 1,
    maxAttempts: 5,
    retryOnError: (e: unknown) => (e as { code?: string }).code === 'TRANSIENT',
  } as const
  const { out, letters } = await withDeadLetters<string>(
    ['transient', 'fatal', 'ok'],
    asyncMap(call, { retry, onError: 'resume' }),
  )
  assert.equal(out, ['TRANSIENT', 'OK'])
  assert.equal(Object.fromEntries(calls), { transient: 2, fatal: 1, ok: 1 })
  assert.equal(
    letters.map((l) => [l.record, l.reason]),
    [['fatal', 'no such key']],
  )
})

test('when every attempt fails the record fails after maxAttempts calls', async () => {
  const f = flaky(Infinity)
  const failure = await runEmbedded(
    [5],
    asyncMap(f.call, { retry: { strategy: 'fixed-delay', delayMs: 1, maxAttempts: 4 }, name: 'exhausted' }),
  ).then(
    () => undefined,
    (e: unknown) => e,
  )
  assert.instance(failure, UserFunctionError)
  assert.match(
    (failure as Error).message,
    /operator exhausted \(subtask 0\) failed on record 5: failed after 4 attempts \(retry.maxAttempts 4\): attempt 4 of 5 failed/,
  )
  assert.is(((failure as Error).cause as SluiceError).code, 'ERR_ASYNC_RETRIES_EXHAUSTED')
  assert.is(f.callsAt.get(5)!.length, 4)
})

test('the timeout covers all attempts: retrying stops when it fires', async () => {
  // The retry delays run on the operator's processing-time service (a manual clock here), the timeout on
  // a real timer: the clock drives the retries, and after the timeout no retry is left to drive.
  const f = flaky(Infinity)
  const { resolved } = resolveAsyncOptions<number, number>('asyncMap', {
    timeoutMs: 50,
    retry: { strategy: 'fixed-delay', delayMs: 20, maxAttempts: 100 },
    onTimeout: { fallback: () => -1 },
  })
  const h = OperatorHarness.unkeyed(new AsyncWaitOperator(f.call, resolved))
  const calls = (): number => f.callsAt.get(1)?.length ?? 0
  h.record(1)
  await waitFor(() => calls() === 1 && h.clock.scheduled === 1, { description: 'the first retry scheduled' })
  h.clock.advanceBy(20)
  await waitFor(() => calls() === 2 && h.clock.scheduled === 1, { description: 'the clock ran the retry' })
  await waitFor(() => h.output.records().length === 1, { description: 'the timeout fired' })
  assert.equal(h.output.records(), [-1], 'the fallback after the timeout')
  assert.is(h.clock.scheduled, 0, 'the pending retry was cancelled with the timeout')
  h.clock.advanceBy(10_000)
  assert.is(calls(), 2, 'no retry after the timeout')
})

test('a retry strategy is checked when the operator is built, naming the option', () => {
  const bad: [unknown, string][] = [
    [{ strategy: 'linear', maxAttempts: 2 }, 'asyncMap.retry.strategy'],
    [{ strategy: 'fixed-delay', delayMs: -1, maxAttempts: 2 }, 'asyncMap.retry.delayMs'],
    [{ strategy: 'fixed-delay', delayMs: 1, maxAttempts: 0 }, 'asyncMap.retry.maxAttempts'],
    [
      { strategy: 'exponential-backoff', initialDelayMs: 10, maxDelayMs: 5, maxAttempts: 2 },
      'asyncMap.retry.maxDelayMs',
    ],
    [
      { strategy: 'exponential-backoff', initialDelayMs: 1, maxDelayMs: 5, jitter: 2, maxAttempts: 2 },
      'asyncMap.retry.jitter',
    ],
    [
      { strategy: 'exponential-backoff', initialDelayMs: 1, maxDelayMs: 5, multiplier: 0.5, maxAttempts: 2 },
      'asyncMap.retry.multiplier',
    ],
    [{ strategy: 'fixed-delay', delayMs: 1, maxAttempts: 2, retryOnError: true }, 'asyncMap.retry.retryOnError'],
    [{ strategy: 'fixed-delay', delayMs: 1, maxAttempts: 2, initialDelayMs: 3 }, 'asyncMap.retry.initialDelayMs'],
  ]
  for (const [retry, option] of bad) {
    try {
      asyncMap(async (x: number) => x, { retry: retry as never })
      assert.unreachable(`${JSON.stringify(retry)} accepted`)
    } catch (error) {
      assert.instance(error, ConfigError)
      assert.is((error as ConfigError).option, option)
    }
  }
})

test.run()

import { from, lastValueFrom, toArray } from 'rxjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { EmbeddedStream } from '../../../lib/api/embedded-stream.js'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { UserFunctionError } from '../../../lib/errors.js'
import { AsyncTimeoutError, asyncMap, asyncMetrics, sharedLimiter } from '../../../lib/operators/async-map.js'
import { map } from '../../../lib/operators/map.js'
import { DEAD_LETTERS, type DeadLetter } from '../../../lib/runtime/output-tag.js'
import type { Sink } from '../../../lib/runtime/sink.js'
import { runEmbedded, runEngine } from '../../support/modes.js'
import { waitFor } from '../../support/wait-for.js'
import { resolveAsyncOptions } from '../../../lib/operators/async/async-options.js'
import { AsyncWaitOperator } from '../../../lib/operators/async/async-wait-operator.js'
import { OperatorHarness } from '../../windows/operator-harness.js'
import { FakeService, sleep } from './async-support.js'

/** Answers x * 10 after 1 ms, except 2, which hangs until its signal aborts. */
function hangsOnTwo() {
  const reasons: unknown[] = []
  const call = async (x: number, signal: AbortSignal) => {
    if (x !== 2) {
      await sleep(1)
      return x * 10
    }
    await new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => {
        reasons.push(signal.reason)
        reject(signal.reason)
      }),
    )
    throw new Error('unreachable')
  }
  return { call, reasons }
}

test('a timeout fails the job by default, naming the operator and the record, and aborts the signal', async () => {
  const { call, reasons } = hangsOnTwo()
  try {
    await runEmbedded([1, 2, 3], asyncMap(call, { timeoutMs: 30, name: 'enrich-embedded' }))
    assert.unreachable('the job should fail')
  } catch (error) {
    assert.instance(error, UserFunctionError)
    const e = error as UserFunctionError
    assert.is(e.operator, 'enrich-embedded')
    assert.is(e.record, '2')
    assert.match(
      e.message,
      /operator enrich-embedded \(subtask 0\) failed on record 2: enrich-embedded: no result within 30 ms/,
    )
    assert.instance(e.cause, AsyncTimeoutError)
  }
  assert.is(reasons.length, 1, 'the request was aborted')
  assert.instance(reasons[0], AsyncTimeoutError)

  const engine = hangsOnTwo()
  const failure = await runEngine([1, 2, 3], {}, asyncMap(engine.call, { timeoutMs: 30, name: 'enrich-engine' })).then(
    () => undefined,
    (e: unknown) => e,
  )
  assert.ok(failure !== undefined, 'the engine job fails')
  assert.match(String((failure as Error).message), /operator enrich-engine \(subtask 0\) failed on record 2/)
})

test('a timeout with a fallback emits the fallback in the record place', async () => {
  const { call } = hangsOnTwo()
  const out = await runEmbedded<number>(
    [1, 2, 3],
    asyncMap(call, { timeoutMs: 20, onTimeout: { fallback: (x: number) => -x }, name: 'fallback' }),
  )
  assert.equal(out, [10, -2, 30])
  const [m] = asyncMetrics('fallback')
  assert.is(m!.timeouts, 1)
  assert.is(m!.completed, 3)
  assert.is(m!.failures, 0)
})

test('under resume a timed-out or rejected record goes to the dead letters and the stream goes on', async () => {
  const call = async (x: number, signal: AbortSignal) => {
    if (x === 3) throw new Error('service said no')
    await sleep(x === 2 ? 1_000 : 1, signal)
    return x * 10
  }
  const out$ = from([1, 2, 3, 4]).pipe(
    asyncMap(call, { timeoutMs: 20, onError: 'resume', name: 'resumer' }),
  ) as EmbeddedStream<number>
  const letters: DeadLetter[] = []
  out$.sideOutput(DEAD_LETTERS).subscribe((l) => letters.push(l))
  assert.equal(await lastValueFrom(out$.pipe(toArray())), [10, 40])
  assert.equal(
    letters.map((l) => [l.operator, l.record]),
    [
      ['resumer', 2],
      ['resumer', 3],
    ],
    'in input order',
  )
  assert.match(letters[0]!.reason, /no result within 20 ms/)
  assert.match(letters[1]!.reason, /service said no/)
})

test('a synchronous throw in the function is a failed request, not a crash', async () => {
  const call = (x: number): Promise<number> => {
    if (x === 2) throw new TypeError('bad input')
    return Promise.resolve(x)
  }
  const failure = await runEmbedded([1, 2, 3], asyncMap(call, { name: 'sync-throw' })).then(
    () => undefined,
    (e: unknown) => e,
  )
  assert.instance(failure, UserFunctionError)
  assert.match((failure as Error).message, /operator sync-throw \(subtask 0\) failed on record 2: bad input/)
})

test('a call that waited in a shared limiter past its timeout is never made', async () => {
  const limiter = sharedLimiter(1)
  const otherJob = limiter.run(() => sleep(60))
  const svc = new FakeService(
    (x: number) => x,
    () => 1,
  )
  const out = await runEmbedded<number>(
    [1, 2, 3],
    asyncMap(svc.call, { limiter, timeoutMs: 20, onTimeout: { fallback: (x: number) => -x } }),
  )
  assert.equal(out, [-1, -2, -3], 'all three timed out waiting for the limiter')
  await otherJob
  // the limiter handed its slot to each waiting call in turn: once none is active or pending, every
  // one of them had its turn, and a call made then would have been counted
  await waitFor(() => limiter.activeCount + limiter.pendingCount === 0, { description: 'the limiter drained' })
  assert.is(svc.calls, 0, 'once the limiter let them through, none was called')
})

/**
 * The service's calls, counting the aborted ones whose rejection the operator has seen: the operator's
 * handlers (and the mailbox, inline here) run in microtasks of the rejection, so they are done by the
 * next macrotask.
 */
function countingRejections(svc: FakeService<number, number>): {
  call: (x: number, signal: AbortSignal) => Promise<number>
  rejectionsSeen: () => number
} {
  let seen = 0
  const call = (x: number, signal: AbortSignal): Promise<number> => {
    const pending = svc.call(x, signal)
    pending.catch(() => setImmediate(() => seen++))
    return pending
  }
  return { call, rejectionsSeen: () => seen }
}

test('unsubscribing from an embedded run aborts the requests in flight and starts no more', async () => {
  const svc = new FakeService(
    (x: number) => x,
    () => 60_000,
  )
  const { call, rejectionsSeen } = countingRejections(svc)
  const subscription = from([1, 2, 3, 4, 5, 6])
    .pipe(asyncMap(call, { capacity: 3 }))
    .subscribe()
  await waitFor(() => svc.active === 3, { description: '3 requests in flight' })
  subscription.unsubscribe()
  await waitFor(() => svc.aborted === 3, { description: 'all 3 aborted' })
  await waitFor(() => rejectionsSeen() === 3, { description: 'the operator saw all 3 rejections' })
  assert.is(svc.calls, 3, 'none of the 3 queued records was started once a slot freed')
})

// In an embedded run the inline executor stops running mailbox work once unsubscribed, so the test above
// passes whatever the operator does. Here the mailbox keeps running after abort(): only the operator's
// own stop (the stopped flag its callbacks and mailbox check, the queued records it drops) keeps the
// queued records from starting when the aborted calls free their slots.
test('an aborted operator starts none of its queued records when aborted calls free their slots', async () => {
  const svc = new FakeService(
    (x: number) => x,
    () => 60_000,
  )
  const { call, rejectionsSeen } = countingRejections(svc)
  const { resolved } = resolveAsyncOptions<number, number>('asyncMap', { capacity: 3 })
  const h = OperatorHarness.unkeyed(new AsyncWaitOperator(call, resolved))
  for (let x = 1; x <= 6; x++) h.record(x)
  await waitFor(() => svc.active === 3, { description: '3 requests in flight, 3 queued' })
  h.operator.abort()
  await waitFor(() => svc.aborted === 3, { description: 'all 3 aborted' })
  await waitFor(() => rejectionsSeen() === 3, { description: 'the operator saw all 3 rejections' })
  assert.is(svc.calls, 3, 'none of the 3 queued records was started once a slot freed')
  assert.equal(h.output.records(), [], 'nothing emitted after the abort')
})

const discard: Sink<number> = {
  name: 'discard',
  guarantee: 'at-least-once',
  createWriter: () => ({ write() {}, close() {} }),
}

test('cancelling the job aborts the signal of every request in flight', async () => {
  const svc = new FakeService(
    (x: number) => x,
    () => 60_000,
  )
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env
    .fromSequence(1, 1_000)
    .pipe(
      asyncMap(svc.call, { capacity: 5, name: 'cancelled' }),
      map((x: number) => x),
    )
    .sinkTo(discard)
  const job = env.executeAsync()
  await waitFor(() => svc.active === 5, { description: '5 requests in flight' })
  await job.cancel()
  await waitFor(() => svc.aborted === 5, { description: 'all 5 aborted' })
  assert.is(svc.completed, 0)
  assert.is(svc.calls, 5, 'capacity held the rest back')
})

test.run()

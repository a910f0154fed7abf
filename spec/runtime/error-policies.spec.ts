import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DEAD_LETTERS, StreamEnvironment, decode, map, type DeadLetter } from '../../lib/index.js'
import { DecodeError, UserFunctionError } from '../../lib/errors.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { runEmbedded } from '../support/modes.js'
import { sharedRecord } from '../support/shared-flags.js'

const lines = ['{"a":1}', 'not json', '{"a":3}']

test('escalate (default) fails the job with an error naming operator, subtask and record', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  try {
    await env
      .fromCollection(lines)
      .pipe(map((l: string) => JSON.parse(l), { name: 'parse' }))
      .executeAndCollect()
    assert.unreachable('job should fail')
  } catch (error) {
    assert.instance(error, UserFunctionError)
    const e = error as UserFunctionError
    assert.is(e.operator, 'parse')
    assert.is(e.subtask, 0)
    assert.is(e.record, '"not json"')
    assert.match(e.message, /operator parse \(subtask 0\) failed on record "not json"/)
  }
})

test('resume sends the failing record to the dead-letter side output with the reason and keeps going', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  const parsed = env.fromCollection(lines).pipe(map((l: string) => JSON.parse(l), { onError: 'resume', name: 'parse' }))
  const letters: DeadLetter[] = []
  parsed.getSideOutput(DEAD_LETTERS).sinkTo(new CallbackSink((l: DeadLetter) => letters.push(l)))
  const good: unknown[] = []
  parsed.sinkTo(new CallbackSink((v) => good.push(v)))
  await env.execute()
  assert.equal(good, [{ a: 1 }, { a: 3 }])
  assert.is(letters.length, 1)
  assert.is(letters[0]!.record, 'not json')
  assert.is(letters[0]!.operator, 'parse')
  assert.match(letters[0]!.reason, /JSON/)
})

test('dead letters no stream reads reach the job handle and the metrics', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env
    .fromCollection(lines)
    .pipe(map((l: string) => JSON.parse(l), { onError: 'resume' }))
    .sinkTo(new CallbackSink(() => {}))
  const job = env.executeAsync()
  const letters: DeadLetter[] = []
  job.deadLetters.subscribe((l) => letters.push(l))
  const result = await job.result
  assert.is(letters.length, 1)
  assert.is(result.metrics.deadLetters, 1)
})

test('resume works in embedded mode too', async () => {
  assert.equal(
    await runEmbedded(
      lines,
      map((l: string) => JSON.parse(l).a, { onError: 'resume' }),
    ),
    [1, 3],
  )
})

test('a fixed-delay restart strategy restarts a failed job from the start and it then finishes', async () => {
  const shared = sharedRecord({ failuresLeft: 2 })
  const env = StreamEnvironment.create({
    logLevel: 'silent',
    restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 10 },
  })
  const out = await env
    .fromCollection([1, 2, 3])
    .pipe(
      map((x: number) => {
        if (x === 2 && shared.failuresLeft-- > 0) throw new Error('transient')
        return x
      }),
    )
    .executeAndCollect()
  // no checkpoints yet: each attempt starts over, so records before the failure repeat
  assert.equal(out.slice(-3), [1, 2, 3])
  assert.is(shared.failuresLeft, -1)
})

test('when restarts are exhausted the job fails with the last error', async () => {
  const env = StreamEnvironment.create({
    logLevel: 'silent',
    restartStrategy: { kind: 'fixed-delay', attempts: 1, delayMs: 1 },
  })
  const shared = sharedRecord({ calls: 0 })
  try {
    await env
      .fromCollection([1])
      .pipe(
        map(() => {
          shared.calls++
          throw new Error('always')
        }),
      )
      .executeAndCollect()
    assert.unreachable()
  } catch (error) {
    assert.instance(error, UserFunctionError)
    assert.is(shared.calls, 2)
  }
})

test('the restart policy restarts even when the job strategy is none, a bounded number of times', async () => {
  // one count per job: a worker replaying the test for the second job must not reset the first's
  const first = sharedRecord({ calls: 0 })
  const second = sharedRecord({ calls: 0 })
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  const out = await env
    .fromCollection([1, 2])
    .pipe(
      map(
        (x: number) => {
          if (x === 2 && first.calls++ === 0) throw new Error('once')
          return x
        },
        { onError: 'restart' },
      ),
    )
    .executeAndCollect()
  assert.equal(out.slice(-2), [1, 2])
  await env
    .fromCollection([1])
    .pipe(
      map(
        () => {
          second.calls++
          throw new Error('always')
        },
        { onError: 'restart' },
      ),
    )
    .executeAndCollect()
    .then(
      () => assert.unreachable(),
      (e) => {
        assert.is(e.code, 'ERR_RESTART_BUDGET_EXHAUSTED')
        assert.match(
          e.message,
          /^operator map \(subtask 0\) has onError 'restart', but its restart budget is used up: 3 restarts in the last \d+ ms \(at most 3 per 60 s, .*\); it failed again on record 1: always$/,
        )
        assert.instance(e.cause, UserFunctionError, 'the last failure is the cause')
      },
    )
  assert.is(second.calls, 4)
})

test('decode sends undecodable records to the dead-letter output with the reason, in both modes', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  const decoded = env.fromCollection(lines).pipe(decode((l: string) => JSON.parse(l) as { a: number }))
  const letters: DeadLetter[] = []
  decoded.getSideOutput(DEAD_LETTERS).sinkTo(new CallbackSink((l: DeadLetter) => letters.push(l)))
  const good: unknown[] = []
  decoded.sinkTo(new CallbackSink((v) => good.push(v)))
  await env.execute()
  assert.equal(good, [{ a: 1 }, { a: 3 }])
  assert.is(letters.length, 1)
  assert.is(letters[0]!.record, 'not json')
  assert.match(letters[0]!.reason, /^cannot decode: .*JSON/)
  assert.instance(letters[0]!.error, DecodeError)
  assert.equal(
    await runEmbedded(
      lines,
      decode((l: string) => JSON.parse(l).a),
    ),
    [1, 3],
  )
})

test('dead letters shuffled to another subtask keep their DecodeError (on workers they cross threads)', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent', parallelism: 2 })
  const many = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? `bad ${i}` : `{"a":${i}}`))
  const decoded = env.fromCollection(many).pipe(decode((l: string) => JSON.parse(l) as { a: number }))
  const letters: Array<DeadLetter & { via: number }> = []
  decoded
    .getSideOutput(DEAD_LETTERS)
    .rebalance()
    .sinkTo(new CallbackSink((l: DeadLetter, subtask) => letters.push({ ...l, via: subtask })), { parallelism: 2 })
  decoded.sinkTo(new CallbackSink(() => {}))
  await env.execute()
  assert.equal(letters.map((l) => l.record).sort(), many.filter((l) => l.startsWith('bad')).sort())
  assert.ok(
    letters.some((l) => l.subtask !== l.via),
    'some letters were written by a sink subtask other than the decoding one',
  )
  for (const l of letters) {
    assert.instance(l.error, DecodeError)
    assert.is((l.error as DecodeError).code, 'ERR_DECODE')
    assert.is((l.error as DecodeError).raw, l.record)
  }
})

test.run()

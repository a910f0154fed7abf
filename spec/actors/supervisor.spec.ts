import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { ActorError } from '../../lib/errors.js'
import { Supervision } from '../../lib/actors/supervision.js'
import { Supervisor } from '../../lib/actors/supervisor.js'

test('restarts older than the window no longer count against maxRestarts', () => {
  let now = 0
  const supervisor = new Supervisor(Supervision.restart({ maxRestarts: 2, withinMs: 100 }), '/user/a', () => now)
  const kinds = (times: number[]): string[] => times.map((t) => ((now = t), supervisor.decide(new Error('x')).kind))
  assert.equal(kinds([0, 10]), ['restart', 'restart'])
  assert.equal(kinds([50]), ['escalate'], 'a third failure within 100 ms')
  assert.equal(kinds([105]), ['restart'], 'the failure at 0 has left the window')
  assert.equal(kinds([106]), ['escalate'])
})

test('the backoff attempt is the number of restarts in the window', () => {
  const supervisor = new Supervisor(Supervision.restart({ backoff: { minMs: 10, maxMs: 1_000 } }), '/user/a')
  const delays = [0, 1, 2, 3].map(() => (supervisor.decide(new Error('x')) as { delayMs: number }).delayMs)
  assert.equal(delays, [10, 20, 40, 80])
})

test('the backoff takes the one vocabulary; the old names are the same delays', () => {
  const delays = (backoff: Parameters<typeof Supervision.restart>[0]) => {
    const supervisor = new Supervisor(Supervision.restart(backoff), '/user/a')
    return [0, 1, 2].map(() => (supervisor.decide(new Error('x')) as { delayMs: number }).delayMs)
  }
  assert.equal(delays({ backoff: { initialDelayMs: 10, maxDelayMs: 50, multiplier: 3 } }), [10, 30, 50])
  assert.equal(delays({ backoff: { minMs: 10, maxMs: 50, factor: 3 } }), [10, 30, 50])
})

test('a decider that throws or returns no strategy escalates the original error', () => {
  const original = new Error('original')
  const throwing = new Supervisor(
    Supervision.decide(() => {
      throw new Error('decider bug')
    }),
    '/user/a',
  )
  assert.equal(throwing.decide(original), { kind: 'escalate', error: original })
  const empty = new Supervisor(
    Supervision.decide(() => undefined as never),
    '/user/a',
  )
  assert.equal(empty.decide(original), { kind: 'escalate', error: original })
  const looping: ReturnType<typeof Supervision.decide> = Supervision.decide(() => looping)
  assert.equal(new Supervisor(looping, '/user/a').decide(original), { kind: 'escalate', error: original })
})

test('exhausted restarts escalate ERR_RESTARTS_EXHAUSTED naming the path, caused by the failure', () => {
  const supervisor = new Supervisor(Supervision.restart({ maxRestarts: 0 }), '/user/a')
  const directive = supervisor.decide(new Error('boom'))
  assert.is(directive.kind, 'escalate')
  const error = (directive as { error: ActorError }).error
  assert.is(error.code, 'ERR_RESTARTS_EXHAUSTED')
  assert.match(error.message, '/user/a')
  assert.is((error.cause as Error).message, 'boom')
})

test('restart options are validated when the strategy is built', () => {
  assert.throws(
    () => Supervision.restart({ maxRestarts: -1 }),
    (e: { option: string }) => e.option === 'maxRestarts',
  )
  assert.throws(
    () => Supervision.restart({ withinMs: 0 }),
    (e: { option: string }) => e.option === 'withinMs',
  )
  const badBackoff = { minMs: 5, maxMs: 1 }
  assert.throws(
    () => Supervision.restart({ backoff: badBackoff }),
    (e: { option: string }) => e.option === 'backoff.maxMs',
  )
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorError } from '../../lib/errors.js'
import {
  ActorSystem,
  Supervision,
  type ActorFailure,
  type ActorRef,
  type BehaviorFactory,
  type DeadLetter,
} from '../../lib/actors/index.js'
import { settlesWithin, waitFor } from '../support/wait-for.js'

// Counts numbers; 'boom' throws. `snapshots` records the count after every message, per incarnation.
function counter(log: { created: number; totals: number[] }): BehaviorFactory<number | 'boom'> {
  return () => {
    log.created++
    let total = 0
    return {
      receive(message) {
        if (message === 'boom') throw new Error('boom')
        total += message
        log.totals.push(total)
      },
    }
  }
}

function observe(system: ActorSystem): { letters: DeadLetter[]; failures: ActorFailure[] } {
  const letters: DeadLetter[] = []
  const failures: ActorFailure[] = []
  system.deadLetters.subscribe((letter) => letters.push(letter))
  system.failures.subscribe((failure) => failures.push(failure))
  return { letters, failures }
}

test('resume keeps the state and drops the failing message as a dead letter', async () => {
  const system = new ActorSystem()
  const { letters } = observe(system)
  const log = { created: 0, totals: [] as number[] }
  const ref = system.spawn(counter(log), { name: 'c', supervision: Supervision.resume() })
  for (const message of [1, 2, 'boom', 3] as const) ref.tell(message)
  await waitFor(() => log.totals.length === 3)
  assert.equal(log.totals, [1, 3, 6])
  assert.is(log.created, 1)
  assert.equal(letters, [{ recipient: '/user/c', message: 'boom', reason: 'resumed-failure' }])
  await settlesWithin(system.terminate())
})

test('a rejected async receive is a failure like a throw', async () => {
  const system = new ActorSystem()
  const { letters } = observe(system)
  const handled: string[] = []
  const ref = system.spawn<string>(
    () => ({
      async receive(message) {
        await Promise.resolve()
        if (message === 'bad') throw new Error('async boom')
        handled.push(message)
      },
    }),
    { name: 'async', supervision: Supervision.resume() },
  )
  for (const message of ['a', 'bad', 'b']) ref.tell(message)
  await waitFor(() => handled.length === 2)
  assert.equal(handled, ['a', 'b'])
  assert.equal(
    letters.map((l) => l.reason),
    ['resumed-failure'],
  )
  await settlesWithin(system.terminate())
})

test('restart calls preRestart, recreates fresh state, and keeps the messages that follow', async () => {
  const system = new ActorSystem()
  const { letters } = observe(system)
  const preRestarts: unknown[] = []
  let created = 0
  const totals: number[] = []
  const ref = system.spawn<number | 'boom'>(
    () => {
      created++
      let total = 0
      return {
        receive(message) {
          if (message === 'boom') throw new Error('boom')
          totals.push((total += message))
        },
        preRestart: (error) => void preRestarts.push((error as Error).message),
      }
    },
    { name: 'c', supervision: Supervision.restart() },
  )
  for (const message of [5, 5, 'boom', 1, 1] as const) ref.tell(message)
  await waitFor(() => totals.length === 4)
  assert.equal(totals, [5, 10, 1, 2], 'state starts from zero after the restart')
  assert.is(created, 2)
  assert.equal(preRestarts, ['boom'])
  assert.equal(
    letters.map((l) => [l.message, l.reason]),
    [['boom', 'restarted-failure']],
  )
  await settlesWithin(system.terminate())
})

test('restart waits at least the backoff delay; messages meanwhile wait in the mailbox', async () => {
  const system = new ActorSystem()
  const createdAt: number[] = []
  let failedAt = 0
  const handled: number[] = []
  const ref = system.spawn<number | 'boom'>(
    () => {
      createdAt.push(performance.now())
      return {
        receive(message) {
          if (message === 'boom') {
            failedAt = performance.now()
            throw new Error('boom')
          }
          handled.push(message)
        },
      }
    },
    { name: 'slow', supervision: Supervision.restart({ backoff: { minMs: 40, maxMs: 1_000 } }) },
  )
  ref.tell('boom')
  await waitFor(() => failedAt > 0)
  ref.tell(1)
  ref.tell(2)
  assert.is(ref.mailboxSize, 2, 'messages wait while the actor is restarting')
  await waitFor(() => handled.length === 2)
  assert.equal(handled, [1, 2])
  assert.is(createdAt.length, 2)
  const elapsed = createdAt[1]! - failedAt
  assert.ok(elapsed >= 40, `restarted after ${elapsed.toFixed(1)} ms, before the 40 ms backoff`)
  await settlesWithin(system.terminate())
})

test('restart stops the children, and the new behavior spawns fresh ones', async () => {
  const system = new ActorSystem()
  const log: string[] = []
  let generation = 0
  const ref = system.spawn<'boom'>(
    (ctx) => {
      const name = `child-${++generation}`
      ctx.spawn<never>(() => ({ receive() {}, postStop: () => void log.push(`${name} stopped`) }), { name: 'child' })
      log.push(`${name} spawned`)
      return {
        receive() {
          throw new Error('boom')
        },
      }
    },
    { name: 'parent', supervision: Supervision.restart() },
  )
  ref.tell('boom')
  await waitFor(() => log.length === 3)
  assert.equal(log, ['child-1 spawned', 'child-1 stopped', 'child-2 spawned'])
  await settlesWithin(system.terminate())
})

test('more than maxRestarts failures within the window stop the actor and escalate to system.failures', async () => {
  const system = new ActorSystem()
  const { letters, failures } = observe(system)
  const log = { created: 0, totals: [] as number[] }
  const ref = system.spawn(counter(log), {
    name: 'flaky',
    supervision: Supervision.restart({ maxRestarts: 2, withinMs: 10_000 }),
  })
  for (const message of ['boom', 'boom', 'boom', 7] as const) ref.tell(message)
  await settlesWithin(ref.terminated)
  assert.is(log.created, 3, 'the initial behavior and two restarts')
  assert.not.ok(ref.isAlive)
  assert.is(failures.length, 1)
  assert.is(failures[0]!.path, '/user/flaky')
  const error = failures[0]!.error as ActorError
  assert.is(error.code, 'ERR_RESTARTS_EXHAUSTED')
  assert.is((error.cause as Error).message, 'boom')
  assert.equal(
    letters.map((l) => [l.message, l.reason]),
    [
      ['boom', 'restarted-failure'],
      ['boom', 'restarted-failure'],
      ['boom', 'escalated-failure'],
      [7, 'stopped'],
    ],
  )
  await settlesWithin(system.terminate())
})

test('stop stops the actor, publishes a top-level failure, and dead-letters the rest of the mailbox', async () => {
  const system = new ActorSystem()
  const { letters, failures } = observe(system)
  let postStops = 0
  const ref = system.spawn<string>(
    () => ({
      receive(message) {
        if (message === 'boom') throw new Error('boom')
      },
      postStop: () => void postStops++,
    }),
    { name: 'fragile', supervision: Supervision.stop() },
  )
  for (const message of ['ok', 'boom', 'after']) ref.tell(message)
  await settlesWithin(ref.terminated)
  assert.not.ok(ref.tell('later'))
  assert.is(postStops, 1)
  assert.equal(
    failures.map((f) => [f.path, (f.error as Error).message]),
    [['/user/fragile', 'boom']],
  )
  assert.equal(
    letters.map((l) => [l.message, l.reason]),
    [
      ['boom', 'stopped-failure'],
      ['after', 'stopped'],
      ['later', 'stopped'],
    ],
  )
  await settlesWithin(system.terminate())
})

test('escalate fails the parent with ERR_ESCALATED, and the parent strategy applies', async () => {
  const system = new ActorSystem()
  const decided: unknown[] = []
  let parentCreated = 0
  let child: ActorRef<'boom'> | undefined
  system.spawn<never>(
    (ctx) => {
      parentCreated++
      child = ctx.spawn<'boom'>(
        () => ({
          receive: () => {
            throw new Error('child boom')
          },
        }),
        {
          name: 'child',
          supervision: Supervision.escalate(),
        },
      )
      return { receive() {} }
    },
    { name: 'parent', supervision: Supervision.decide((error) => (decided.push(error), Supervision.restart())) },
  )
  const firstChild = child!
  firstChild.tell('boom')
  await waitFor(() => parentCreated === 2)
  assert.is(decided.length, 1)
  const error = decided[0] as ActorError
  assert.instance(error, ActorError)
  assert.is(error.code, 'ERR_ESCALATED')
  assert.match(error.message, '/user/parent/child')
  assert.is((error.cause as Error).message, 'child boom')
  assert.not.ok(firstChild.isAlive)
  assert.ok(child!.isAlive, 'the restarted parent spawned a new child')
  await settlesWithin(system.terminate())
})

test('by default a failure escalates up to system.failures and stops the chain', async () => {
  const system = new ActorSystem()
  const { failures } = observe(system)
  let child: ActorRef<'boom'> | undefined
  const parent = system.spawn<never>(
    (ctx) => {
      child = ctx.spawn<'boom'>(
        () => ({
          receive: () => {
            throw new Error('deep boom')
          },
        }),
        { name: 'child' },
      )
      return { receive() {} }
    },
    { name: 'parent' },
  )
  child!.tell('boom')
  await settlesWithin(parent.terminated)
  assert.is(failures.length, 1)
  assert.is(failures[0]!.path, '/user/parent')
  const error = failures[0]!.error as ActorError
  assert.is(error.code, 'ERR_ESCALATED')
  assert.is((error.cause as Error).message, 'deep boom')
  assert.not.ok(child!.isAlive)
  await settlesWithin(system.terminate())
})

test('decide chooses the strategy per error', async () => {
  const system = new ActorSystem()
  const { failures } = observe(system)
  const handled: string[] = []
  const ref = system.spawn<string>(
    () => ({
      receive(message) {
        if (message === 'bad-input') throw new TypeError('bad input')
        if (message === 'fatal') throw new Error('fatal')
        handled.push(message)
      },
    }),
    {
      name: 'picky',
      supervision: Supervision.decide((error) =>
        error instanceof TypeError ? Supervision.resume() : Supervision.stop(),
      ),
    },
  )
  for (const message of ['a', 'bad-input', 'b', 'fatal', 'c']) ref.tell(message)
  await settlesWithin(ref.terminated)
  assert.equal(handled, ['a', 'b'])
  assert.equal(
    failures.map((f) => (f.error as Error).message),
    ['fatal'],
  )
  await settlesWithin(system.terminate())
})

test.run()

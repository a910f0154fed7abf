import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type ActorError, ConfigError } from '../../lib/errors.js'
import {
  ActorSystem,
  BoundedMailbox,
  Supervision,
  type ActorContext,
  type BehaviorFactory,
  type DeadLetter,
} from '../../lib/actors/index.js'
import { settlesWithin } from '../support/wait-for.js'

// A slow async receive keeps messages pending in the mailbox when the stop begins.
const slowly = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1))

type Setup = (ctx: ActorContext<number>) => (n: number) => void

function logging(name: string, log: string[], setup?: Setup): BehaviorFactory<number> {
  return (ctx) => {
    const forward = setup?.(ctx)
    return {
      async receive(n) {
        await slowly()
        log.push(`${name} handled ${n}`)
        forward?.(n)
      },
      postStop: () => void log.push(`${name} stopped`),
    }
  }
}

test('terminate stops children before parents, siblings youngest first, after pending messages', async () => {
  const system = new ActorSystem()
  const letters: DeadLetter[] = []
  system.deadLetters.subscribe((letter) => letters.push(letter))
  const log: string[] = []
  const a = system.spawn(
    logging('a', log, (ctx) => {
      ctx.spawn(logging('a1', log), { name: 'a1' })
      const a2 = ctx.spawn(logging('a2', log), { name: 'a2' })
      for (let n = 0; n < 3; n++) a2.tell(n)
      return () => {}
    }),
    { name: 'a' },
  )
  const b = system.spawn(
    logging('b', log, (ctx) => {
      const b1 = ctx.spawn(logging('b1', log), { name: 'b1' })
      // b's pending messages still reach its child: children stop only after the parent's mailbox drained.
      return (n) => void b1.tell(n * 10)
    }),
    { name: 'b' },
  )
  for (let n = 0; n < 3; n++) a.tell(n)
  for (let n = 0; n < 3; n++) b.tell(n)
  await settlesWithin(system.terminate())

  const stops = log.filter((line) => line.endsWith('stopped'))
  assert.equal(stops, ['b1 stopped', 'b stopped', 'a2 stopped', 'a1 stopped', 'a stopped'])
  for (const [name, count] of [
    ['a', 3],
    ['a2', 3],
    ['b', 3],
    ['b1', 3],
  ] as const) {
    const handled = log.filter((line) => line.startsWith(`${name} handled`))
    assert.is(handled.length, count, `${name} handled its pending messages`)
    assert.ok(
      log.lastIndexOf(handled.at(-1)!) < log.indexOf(`${name} stopped`),
      `${name} handled them before it stopped`,
    )
  }
  assert.ok(log.indexOf('b handled 2') < log.indexOf('b1 stopped'), 'the parent drained before its children stopped')
  assert.equal(letters, [])
})

test('ref.stop refuses new messages at once but handles those already queued, then postStop', async () => {
  const system = new ActorSystem()
  const letters: DeadLetter[] = []
  system.deadLetters.subscribe((letter) => letters.push(letter))
  const log: string[] = []
  const ref = system.spawn(logging('x', log), { name: 'x' })
  ref.tell(1)
  ref.tell(2)
  const stopped = ref.stop()
  assert.not.ok(ref.isAlive)
  assert.not.ok(ref.tell(3))
  assert.is(ref.stop(), stopped, 'a second stop returns the same promise')
  await settlesWithin(stopped)
  assert.equal(log, ['x handled 1', 'x handled 2', 'x stopped'])
  assert.equal(
    letters.map((l) => [l.message, l.reason]),
    [[3, 'stopped']],
  )
  await settlesWithin(system.terminate())
})

test('stop during a restart backoff recreates the behavior at once to drain, instead of waiting', async () => {
  const system = new ActorSystem()
  const handled: string[] = []
  const ref = system.spawn<string>(
    () => ({
      receive(message) {
        if (message === 'boom') throw new Error('boom')
        handled.push(message)
      },
    }),
    { name: 'backing-off', supervision: Supervision.restart({ backoff: { minMs: 10_000, maxMs: 10_000 } }) },
  )
  ref.tell('boom')
  ref.tell('queued')
  const started = performance.now()
  await new Promise((resolve) => setImmediate(resolve))
  await settlesWithin(ref.stop())
  assert.ok(performance.now() - started < 1_000, 'did not wait out the 10 s backoff')
  assert.equal(handled, ['queued'])
  await settlesWithin(system.terminate())
})

test('invalid spawn options throw ConfigError naming the option', async () => {
  const system = new ActorSystem()
  const noop: BehaviorFactory<unknown> = () => ({ receive() {} })
  system.spawn(noop, { name: 'taken' })
  const cases: Array<[object, string]> = [
    [{ name: '' }, 'name'],
    [{ name: 'a/b' }, 'name'],
    [{ name: 'taken' }, 'name'],
    [{ name: 'x', mailboxCapacity: 0 }, 'mailboxCapacity'],
    [{ name: 'y', mailboxCapacity: 2.5 }, 'mailboxCapacity'],
    [{ name: 'z', mailbox: { offer: () => true } }, 'mailbox'],
    [{ name: 'w', mailbox: new BoundedMailbox(4), mailboxCapacity: 8 }, 'mailboxCapacity'],
  ]
  for (const [options, option] of cases) {
    try {
      system.spawn(noop, options as never)
      assert.unreachable(`${JSON.stringify(options)} accepted`)
    } catch (error) {
      assert.instance(error, ConfigError)
      assert.is((error as ConfigError).option, option)
    }
  }
  assert.throws(
    () => new ActorSystem({ throughput: 0 }),
    (e: ConfigError) => e.option === 'throughput',
  )
  assert.throws(
    () => new ActorSystem({ yieldRequested: true as unknown as () => boolean }),
    (e: ConfigError) => e.option === 'yieldRequested',
  )
  await settlesWithin(system.terminate())
  assert.throws(
    () => system.spawn(noop, { name: 'after' }),
    (e: ActorError) => e.code === 'ERR_SYSTEM_TERMINATED',
  )
})

test("an actor spawned with its owner's mailbox: the owner takes messages itself, the actor handles those left", async () => {
  const system = new ActorSystem()
  const mailbox = new BoundedMailbox<number>(3)
  const handled: number[] = []
  const ref = system.spawn<number>(() => ({ receive: (n) => void handled.push(n) }), { name: 'owned', mailbox })
  const letters: DeadLetter[] = []
  system.deadLetters.subscribe((letter) => letters.push(letter))
  assert.is(ref.mailboxCapacity, 3)
  assert.equal(
    [1, 2, 3, 4].map((n) => ref.tell(n)),
    [true, true, true, false],
  )
  assert.equal(letters, [{ recipient: '/user/owned', message: 4, reason: 'mailbox-full' }])
  assert.is(ref.mailboxSize, 3)
  // before the actor's turn, the owner takes the head
  assert.is(mailbox.peek(), 1)
  assert.is(mailbox.poll(), 1)
  assert.is(ref.mailboxSize, 2)
  await settlesWithin(ref.stop())
  assert.equal(handled, [2, 3])
})

test('a stopped child frees its name for a new sibling', async () => {
  const system = new ActorSystem()
  const first = system.spawn<number>(() => ({ receive() {} }), { name: 'reused' })
  await settlesWithin(first.stop())
  const second = system.spawn<number>(() => ({ receive() {} }), { name: 'reused' })
  assert.ok(second.isAlive)
  assert.is.not(second, first)
  await settlesWithin(system.terminate())
})

test('a postStop that throws is reported on system.failures and the stop still completes', async () => {
  const system = new ActorSystem()
  const failures: unknown[] = []
  system.failures.subscribe(({ path, error }) => failures.push([path, (error as Error).message]))
  const ref = system.spawn<never>(
    () => ({
      receive() {},
      postStop() {
        throw new Error('cleanup failed')
      },
    }),
    { name: 'messy' },
  )
  await settlesWithin(ref.stop())
  assert.equal(failures, [['/user/messy', 'cleanup failed']])
  assert.equal(system.actors, [])
  await settlesWithin(system.terminate())
})

test.run()

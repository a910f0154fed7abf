import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorError } from '../../lib/errors.js'
import { ActorSystem, type ActorRef, type BehaviorFactory, type DeadLetter } from '../../lib/actors/index.js'
import { settlesWithin, waitFor } from '../support/wait-for.js'

type Get = { type: 'get'; replyTo: ActorRef<number[]> }
type Msg = { type: 'add'; n: number } | Get

const recorder: BehaviorFactory<Msg> = () => {
  const seen: number[] = []
  return {
    receive(message) {
      if (message.type === 'add') seen.push(message.n)
      else message.replyTo.tell([...seen])
    },
  }
}

function collectDeadLetters(system: ActorSystem): DeadLetter[] {
  const letters: DeadLetter[] = []
  system.deadLetters.subscribe((letter) => letters.push(letter))
  return letters
}

test('tell delivers messages that ask then reads back in FIFO order', async () => {
  const system = new ActorSystem()
  const ref = system.spawn(recorder, { name: 'recorder' })
  assert.is(ref.path, '/user/recorder')
  for (let n = 0; n < 500; n++) assert.ok(ref.tell({ type: 'add', n }))
  const seen = await ref.ask<number[]>((replyTo) => ({ type: 'get', replyTo }), 1_000)
  assert.equal(
    seen,
    Array.from({ length: 500 }, (_, n) => n),
  )
  await settlesWithin(system.terminate())
})

test('ask rejects with ERR_ASK_TIMEOUT naming the path and the timeout when no reply comes', async () => {
  const system = new ActorSystem()
  const silent = system.spawn<Msg>(() => ({ receive() {} }), { name: 'silent' })
  const started = performance.now()
  try {
    await silent.ask<number[]>((replyTo) => ({ type: 'get', replyTo }), 30)
    assert.unreachable('ask resolved')
  } catch (error) {
    assert.instance(error, ActorError)
    assert.is((error as ActorError).code, 'ERR_ASK_TIMEOUT')
    assert.match((error as Error).message, '/user/silent')
    assert.match((error as Error).message, '30 ms')
    assert.ok(performance.now() - started >= 29)
  }
  await settlesWithin(system.terminate())
})

test('a second reply to an ask becomes a dead letter', async () => {
  const system = new ActorSystem()
  const letters = collectDeadLetters(system)
  const twice = system.spawn<Get>(() => ({ receive: ({ replyTo }) => void (replyTo.tell([1]), replyTo.tell([2])) }), {
    name: 'twice',
  })
  assert.equal(await twice.ask<number[]>((replyTo) => ({ type: 'get', replyTo }), 1_000), [1])
  assert.equal(
    letters.map((l) => [l.message, l.reason]),
    [[[2], 'stopped']],
  )
  assert.match(letters[0]!.recipient, /^\/temp\//)
  await settlesWithin(system.terminate())
})

test('a full mailbox refuses the message and publishes it as a dead letter with reason mailbox-full', async () => {
  const system = new ActorSystem()
  const letters = collectDeadLetters(system)
  const handled: number[] = []
  const ref = system.spawn<number>(() => ({ receive: (n) => void handled.push(n) }), {
    name: 'small',
    mailboxCapacity: 2,
  })
  // Told synchronously, before the dispatcher gets a turn: the third does not fit.
  assert.ok(ref.tell(1))
  assert.ok(ref.tell(2))
  assert.is(ref.mailboxSize, 2)
  assert.not.ok(ref.tell(3))
  assert.equal(letters, [{ recipient: '/user/small', message: 3, reason: 'mailbox-full' }])
  await waitFor(() => handled.length === 2)
  assert.equal(handled, [1, 2])
  await settlesWithin(system.terminate())
})

test('messages to a stopped actor become dead letters with reason stopped', async () => {
  const system = new ActorSystem()
  const letters = collectDeadLetters(system)
  const ref = system.spawn<string>(() => ({ receive() {} }), { name: 'gone' })
  await settlesWithin(ref.stop())
  assert.not.ok(ref.isAlive)
  assert.not.ok(ref.tell('late'))
  assert.equal(letters, [{ recipient: '/user/gone', message: 'late', reason: 'stopped' }])
  try {
    await ref.ask<number>(() => 'question', 1_000)
    assert.unreachable('ask to a stopped actor resolved')
  } catch (error) {
    assert.is((error as ActorError).code, 'ERR_ASK_UNDELIVERED')
  }
  await settlesWithin(system.terminate())
})

test('an async receive handles one message at a time, in order', async () => {
  const system = new ActorSystem()
  const log: string[] = []
  let active = 0
  let maxActive = 0
  const ref = system.spawn<number>(
    () => ({
      async receive(n) {
        active++
        maxActive = Math.max(maxActive, active)
        log.push(`start ${n}`)
        // Uneven waits: a concurrent actor would finish the short ones first.
        await new Promise((resolve) => setTimeout(resolve, n % 2 === 0 ? 3 : 0))
        log.push(`end ${n}`)
        active--
      },
    }),
    { name: 'async' },
  )
  for (let n = 0; n < 6; n++) ref.tell(n)
  await waitFor(() => log.length === 12)
  assert.is(maxActive, 1)
  assert.equal(
    log,
    [0, 1, 2, 3, 4, 5].flatMap((n) => [`start ${n}`, `end ${n}`]),
  )
  await settlesWithin(system.terminate())
})

test('children get paths under their parent and ctx knows parent and children', async () => {
  const system = new ActorSystem()
  let childParent: ActorRef<unknown> | undefined
  const parent = system.spawn<string>(
    (ctx) => {
      ctx.spawn<number>((child) => ((childParent = child.parent), { receive() {} }), { name: 'a' })
      ctx.spawn<number>(() => ({ receive() {} }), { name: 'b' })
      return { receive: () => void 0 }
    },
    { name: 'parent' },
  )
  assert.is(childParent, parent)
  assert.equal(
    system.actors.map((ref) => ref.path),
    ['/user/parent'],
  )
  await settlesWithin(system.terminate())
  assert.equal(system.actors, [])
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { ConfigError } from '../../lib/errors.js'
import { ActorSystem, CreditChannel, type DeadLetter } from '../../lib/actors/index.js'
import { settlesWithin, waitFor } from '../support/wait-for.js'

test('trySend spends credits and sends nothing once they are gone', async () => {
  const system = new ActorSystem()
  const target = system.spawn<number>(() => ({ receive() {} }), { name: 'target' })
  const channel = new CreditChannel(target, 2)
  assert.ok(channel.trySend(1))
  assert.ok(channel.trySend(2))
  assert.is(channel.credits, 0)
  assert.not.ok(channel.trySend(3))
  assert.is(target.mailboxSize, 2, 'the refused message was not told')
  await settlesWithin(system.terminate())
})

test('grant returns credits and wakes listeners until they unsubscribe', async () => {
  const system = new ActorSystem()
  const channel = new CreditChannel(
    system.spawn<number>(() => ({ receive() {} }), { name: 't' }),
    0,
  )
  let wakes = 0
  const off = channel.onCredit(() => void wakes++)
  channel.grant()
  channel.grant(3)
  assert.is(channel.credits, 4)
  assert.is(wakes, 2)
  off()
  channel.grant()
  assert.is(wakes, 2)
  assert.throws(
    () => channel.grant(0),
    (e: ConfigError) => e.option === 'n',
  )
  assert.throws(
    () => new CreditChannel(channel.target, -1),
    (e: ConfigError) => e.option === 'initialCredits',
  )
  await settlesWithin(system.terminate())
})

// The receiver grants a credit back per handled message; every 500th it pauses a loop turn, so the
// sender really runs out of credits and must wait.
async function pump(viaChannel: boolean): Promise<{ received: number[]; maxMailbox: number; fullLetters: number }> {
  const system = new ActorSystem()
  const letters: DeadLetter[] = []
  system.deadLetters.subscribe((letter) => letters.push(letter))
  const total = 20_000
  const capacity = 8
  const received: number[] = []
  let channel: CreditChannel<number> | undefined
  const receiver = system.spawn<number>(
    () => ({
      receive(n) {
        received.push(n)
        if (n % 500 === 0) return new Promise<void>((resolve) => setImmediate(() => (channel?.grant(), resolve())))
        channel?.grant()
      },
    }),
    { name: 'receiver', mailboxCapacity: capacity },
  )
  let sent = 0
  let maxMailbox = 0
  if (viaChannel) {
    channel = new CreditChannel(receiver, capacity)
    const send = (): void => {
      while (sent < total && channel!.trySend(sent)) {
        sent++
        maxMailbox = Math.max(maxMailbox, receiver.mailboxSize)
      }
    }
    channel.onCredit(send)
    send()
    await waitFor(() => received.length === total, { timeoutMs: 3_000 })
  } else {
    for (; sent < total; sent++) {
      receiver.tell(sent)
      maxMailbox = Math.max(maxMailbox, receiver.mailboxSize)
    }
    await waitFor(() => received.length + letters.length === total)
  }
  await settlesWithin(system.terminate())
  return { received, maxMailbox, fullLetters: letters.filter((l) => l.reason === 'mailbox-full').length }
}

test('a sender limited by credits ≤ the mailbox capacity never overflows the mailbox', async () => {
  const { received, maxMailbox, fullLetters } = await pump(true)
  assert.is(fullLetters, 0)
  assert.ok(maxMailbox <= 8, `mailbox reached ${maxMailbox}`)
  assert.ok(maxMailbox > 0)
  assert.equal(
    received,
    Array.from({ length: 20_000 }, (_, n) => n),
  )
})

test('the same sender telling directly does overflow (the control for the test above)', async () => {
  const { fullLetters, maxMailbox } = await pump(false)
  assert.ok(fullLetters > 0)
  assert.is(maxMailbox, 8)
})

test.run()

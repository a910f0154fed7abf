import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../lib/errors.js'
import { BoundedMailbox } from '../../lib/actors/mailbox.js'

test('polls messages in the order they were offered', () => {
  const mailbox = new BoundedMailbox<number>(8)
  for (let i = 0; i < 5; i++) mailbox.offer(i)
  const polled: number[] = []
  while (mailbox.size > 0) polled.push(mailbox.poll()!)
  assert.equal(polled, [0, 1, 2, 3, 4])
  assert.is(mailbox.poll(), undefined)
})

test('refuses a message when full and keeps what it holds', () => {
  const mailbox = new BoundedMailbox<string>(2)
  assert.ok(mailbox.offer('a'))
  assert.ok(mailbox.offer('b'))
  assert.ok(mailbox.isFull)
  assert.not.ok(mailbox.offer('c'))
  assert.is(mailbox.size, 2)
  assert.is(mailbox.poll(), 'a')
  assert.not.ok(mailbox.isFull)
  assert.ok(mailbox.offer('c'))
  assert.equal([mailbox.poll(), mailbox.poll()], ['b', 'c'])
})

test('stays FIFO across wrap-around and growth up to the capacity', () => {
  const mailbox = new BoundedMailbox<number>(100)
  let next = 0
  let expected = 0
  // Interleave offers and polls so the ring wraps many times while it grows from 16 slots to 128.
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 3 && mailbox.offer(next); i++) next++
    assert.is(mailbox.poll(), expected++)
  }
  while (mailbox.offer(next)) next++
  assert.is(mailbox.size, 100)
  while (mailbox.size > 0) assert.is(mailbox.poll(), expected++)
  assert.is(expected, next)
})

test('peek shows the oldest message and leaves it', () => {
  const mailbox = new BoundedMailbox<string>(2)
  assert.is(mailbox.peek(), undefined)
  mailbox.offer('a')
  mailbox.offer('b')
  assert.is(mailbox.peek(), 'a')
  assert.is(mailbox.size, 2)
  assert.is(mailbox.poll(), 'a')
  assert.is(mailbox.peek(), 'b')
})

test('holds undefined as a message, counted by size', () => {
  const mailbox = new BoundedMailbox<undefined | number>(3)
  mailbox.offer(undefined)
  mailbox.offer(1)
  assert.is(mailbox.size, 2)
  assert.is(mailbox.poll(), undefined)
  assert.is(mailbox.poll(), 1)
  assert.is(mailbox.size, 0)
})

test('rejects a capacity that is not a whole number of at least 1, naming the option', () => {
  for (const capacity of [0, -1, 1.5, Number.NaN]) {
    try {
      new BoundedMailbox(capacity)
      assert.unreachable(`capacity ${capacity} accepted`)
    } catch (error) {
      assert.instance(error, ConfigError)
      assert.is((error as ConfigError).option, 'capacity')
    }
  }
  assert.is(new BoundedMailbox(1).capacity, 1)
})

test.run()

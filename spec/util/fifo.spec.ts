import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Fifo } from '../../lib/util/fifo.js'

test('a queue that never runs empty keeps its storage bounded and its order', () => {
  const q = new Fifo<number>()
  let next = 0
  let expected = 0
  for (let i = 0; i < 10; i++) q.push(next++)
  // steady load: one in, one out, never empty (the readers' case under backpressure)
  for (let i = 0; i < 100_000; i++) {
    q.push(next++)
    assert.is(q.shift(), expected++)
  }
  assert.is(q.size, 10)
  const storage = (q as unknown as { items: unknown[] }).items.length
  assert.ok(storage <= 2 * 1024 + 10, `storage ${storage} slots for 10 items`)
  q.clear()
  assert.is(q.shift(), undefined)
})

test('peek shows the oldest item without taking it', () => {
  const q = new Fifo<string>()
  assert.is(q.peek(), undefined)
  q.push('a')
  q.push('b')
  assert.is(q.peek(), 'a')
  assert.is(q.size, 2)
  q.shift()
  assert.is(q.peek(), 'b')
  q.shift()
  assert.is(q.peek(), undefined)
})

test.run()

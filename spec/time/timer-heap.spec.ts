import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { TimerHeap } from '../../lib/time/timer-heap.js'

function drain(heap: TimerHeap): string[] {
  const out: string[] = []
  for (let t = heap.poll(); t !== undefined; t = heap.poll()) out.push(`${t.timestamp}:${String(t.key)}`)
  return out
}

test('holds each (timestamp, key) once and polls in time order, keys of one time in the order added', () => {
  const heap = new TimerHeap()
  assert.ok(heap.add({ timestamp: 20, key: 'b', keyGroup: 0 }))
  assert.ok(heap.add({ timestamp: 10, key: 'a', keyGroup: 0 }))
  assert.ok(heap.add({ timestamp: 20, key: 'a', keyGroup: 0 }))
  assert.not.ok(heap.add({ timestamp: 20, key: 'b', keyGroup: 0 }))
  assert.ok(heap.add({ timestamp: 20, key: 1, keyGroup: 0 }))
  assert.ok(heap.add({ timestamp: 20, key: '1', keyGroup: 0 }), 'keys compare by type and value')
  assert.is(heap.size, 5)
  assert.equal(drain(heap), ['10:a', '20:b', '20:a', '20:1', '20:1'])
  assert.is(heap.size, 0)
})

test('a removed timer never fires; adding it again puts it at the end of its time', () => {
  const heap = new TimerHeap()
  for (const key of ['a', 'b', 'c']) heap.add({ timestamp: 5, key, keyGroup: 0 })
  heap.add({ timestamp: 7, key: 'z', keyGroup: 0 })
  assert.ok(heap.remove(5, 'a'))
  assert.not.ok(heap.remove(5, 'a'))
  assert.not.ok(heap.remove(6, 'b'))
  assert.is(heap.peek()?.key, 'b')
  heap.add({ timestamp: 5, key: 'a', keyGroup: 0 })
  assert.ok(heap.remove(7, 'z'))
  assert.equal(drain(heap), ['5:b', '5:c', '5:a'])
  assert.equal([...heap.values()], [])
})

test('stays ordered and bounded through many registrations and deletions (session windows moving their end)', () => {
  const heap = new TimerHeap()
  for (let i = 0; i < 10_000; i++) {
    const key = i % 100
    if (i >= 100) heap.remove(i - 100 + 1_000, key)
    heap.add({ timestamp: i + 1_000, key, keyGroup: 0 })
  }
  assert.is(heap.size, 100)
  assert.ok((heap as unknown as { times: number[] }).times.length <= 2 * 100 + 64)
  const times = drain(heap).map((s) => Number(s.split(':')[0]))
  assert.equal(
    times,
    Array.from({ length: 100 }, (_, i) => 10_900 + i),
  )
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WindowEndIndex } from '../../lib/windows/window-end-index.js'

test('fires every key of a window end once, in time order, and only up to the watermark', () => {
  const index = new WindowEndIndex()
  index.add(30, 'c', 3)
  index.add(10, 'a', 1)
  index.add(20, 'b', 2)
  index.add(10, 'b', 2)
  assert.is(index.size, 3, 'one entry per window end, not per key')
  const fired: string[] = []
  index.fire(20, (time, key, group) => fired.push(`${time}:${key}:${group}`))
  assert.equal(fired, ['10:a:1', '10:b:2', '20:b:2'])
  index.fire(20, (time, key) => fired.push(`again ${time}:${key}`))
  assert.is(fired.length, 3)
  index.fire(Number.POSITIVE_INFINITY, (time, key) => fired.push(`${time}:${key}`))
  assert.equal(fired.slice(3), ['30:c'])
  assert.is(index.size, 0)
})

test('keeps time order however the ends arrive', () => {
  const index = new WindowEndIndex()
  const times = [50, 3, 41, 7, 7, 99, 0, 12, 64, 33]
  for (const t of times) index.add(t, `k${t}`, 0)
  const fired: number[] = []
  index.fire(1_000, (time) => fired.push(time))
  assert.equal(
    fired,
    [...times].sort((a, b) => a - b),
  )
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { TimeWindow } from '../../lib/windows/time-window.js'

test('a window ends one millisecond before its exclusive end', () => {
  const w = new TimeWindow(0, 1_000)
  assert.is(w.maxTimestamp(), 999)
  assert.is(w.id, '0:1000')
})

test('finds the window start with an offset, for negative timestamps too', () => {
  assert.is(TimeWindow.windowStart(7_300, 0, 1_000), 7_000)
  assert.is(TimeWindow.windowStart(7_300, 500, 1_000), 6_500)
  assert.is(TimeWindow.windowStart(7_000, 0, 1_000), 7_000)
  assert.is(TimeWindow.windowStart(-1, 0, 1_000), -1_000)
  assert.is(TimeWindow.windowStart(-1_000, 0, 1_000), -1_000)
})

test('touching and overlapping windows intersect, disjoint ones do not', () => {
  const w = new TimeWindow(10, 20)
  assert.ok(w.intersects(new TimeWindow(20, 30)))
  assert.ok(w.intersects(new TimeWindow(0, 10)))
  assert.ok(w.intersects(new TimeWindow(15, 16)))
  assert.not.ok(w.intersects(new TimeWindow(21, 30)))
})

test('merges overlapping windows into their cover and leaves lone windows alone', () => {
  const merges: [string[], string][] = []
  const windows = [
    new TimeWindow(30, 40),
    new TimeWindow(0, 10),
    new TimeWindow(100, 110),
    new TimeWindow(5, 15),
    new TimeWindow(14, 20),
  ]
  TimeWindow.mergeWindows(windows, (group, into) => merges.push([group.map((w) => w.id), into.id]))
  assert.equal(merges, [[['0:10', '5:15', '14:20'], '0:20']])
})

test.run()

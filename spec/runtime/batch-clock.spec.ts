import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { BatchClock } from '../../lib/runtime/batch-clock.js'
import type { ProcessingTimeService } from '../../lib/time/processing-time.js'

/** A clock that moves 1 ms at every read, and counts them. */
function tickingClock(): ProcessingTimeService & { reads: number } {
  const clock = {
    reads: 0,
    now: () => 1_000 + clock.reads++,
    scheduleAt: () => () => {},
  }
  return clock
}

test('while the subtask works, the clock is read once per batch; every batch reads it again', () => {
  const wall = tickingClock()
  const clock = new BatchClock(wall)
  clock.begin()
  const first = clock.now()
  assert.is(clock.now(), first, 'the records of a batch share its time')
  assert.is(clock.now(), first)
  assert.is(wall.reads, 1)
  clock.nextBatch()
  const second = clock.now()
  assert.ok(second > first, 'a new batch reads the clock')
  assert.is(clock.now(), second)
  assert.is(wall.reads, 2)
  clock.end()
})

test('outside the subtask work every read is exact, so the time is never stale after an idle period', () => {
  const wall = tickingClock()
  const clock = new BatchClock(wall)
  clock.begin()
  const during = clock.now()
  clock.end()
  const a = clock.now()
  const b = clock.now()
  assert.ok(a > during && b > a, 'a callback outside the mailbox reads the clock each time')
  clock.begin()
  assert.ok(clock.now() > b, 'the next message reads the clock afresh')
  clock.end()
  assert.is(wall.reads, 4)
})

test('a read outside the work does not fix the time of the next batch', () => {
  const wall = tickingClock()
  const clock = new BatchClock(wall)
  const outside = clock.now()
  clock.begin()
  assert.ok(clock.now() > outside)
  clock.end()
})

test('timers are the wrapped clock’s', () => {
  const scheduled: number[] = []
  const clock = new BatchClock({
    now: () => 0,
    scheduleAt: (at) => {
      scheduled.push(at)
      return () => {}
    },
  })
  clock.scheduleAt(500, () => {})
  assert.equal(scheduled, [500])
})

test.run()

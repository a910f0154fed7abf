import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../lib/errors.js'
import { globalWindows } from '../../lib/windows/assigners/global.js'
import { eventTimeSessionWindows, processingTimeSessionWindows } from '../../lib/windows/assigners/session.js'
import { slidingEventTimeWindows, slidingProcessingTimeWindows } from '../../lib/windows/assigners/sliding.js'
import { tumblingEventTimeWindows, tumblingProcessingTimeWindows } from '../../lib/windows/assigners/tumbling.js'
import { GlobalWindow } from '../../lib/windows/global-window.js'
import { EventTimeTrigger } from '../../lib/windows/triggers/event-time-trigger.js'
import { NeverTrigger } from '../../lib/windows/triggers/never-trigger.js'
import { ProcessingTimeTrigger } from '../../lib/windows/triggers/processing-time-trigger.js'
import { isMergingAssigner } from '../../lib/windows/window-assigner.js'

const clockAt = (now: number) => ({ currentProcessingTime: () => now })
const ids = (windows: readonly { id: string }[]) => windows.map((w) => w.id)

test('tumbling event-time windows hold a timestamp in exactly one aligned window', () => {
  const assigner = tumblingEventTimeWindows(1_000)
  assert.equal(ids(assigner.assignWindows('x', 1_999, clockAt(0))), ['1000:2000'])
  assert.equal(ids(assigner.assignWindows('x', 2_000, clockAt(0))), ['2000:3000'])
  assert.equal(ids(tumblingEventTimeWindows(1_000, 300).assignWindows('x', 1_200, clockAt(0))), ['300:1300'])
  assert.is(assigner.timeDomain, 'event-time')
  assert.instance(assigner.defaultTrigger(), EventTimeTrigger)
})

test('processing-time assigners use the wall clock, not the record timestamp', () => {
  assert.equal(ids(tumblingProcessingTimeWindows(100).assignWindows('x', 5, clockAt(1_234))), ['1200:1300'])
  assert.equal(ids(slidingProcessingTimeWindows(100, 50).assignWindows('x', 5, clockAt(1_234))), [
    '1200:1300',
    '1150:1250',
  ])
  assert.equal(ids(processingTimeSessionWindows(30).assignWindows('x', 5, clockAt(1_234))), ['1234:1264'])
  assert.instance(tumblingProcessingTimeWindows(100).defaultTrigger(), ProcessingTimeTrigger)
})

test('sliding windows put a timestamp in size / slide windows, newest first', () => {
  assert.equal(ids(slidingEventTimeWindows(10, 5).assignWindows('x', 6, clockAt(0))), ['5:15', '0:10'])
  assert.equal(ids(slidingEventTimeWindows(10, 3).assignWindows('x', 6, clockAt(0))), ['6:16', '3:13', '0:10', '-3:7'])
})

test('session windows open [timestamp, timestamp + gap) and take a dynamic gap from the record', () => {
  const assigner = eventTimeSessionWindows(30)
  assert.ok(isMergingAssigner(assigner))
  assert.equal(ids(assigner.assignWindows('x', 100, clockAt(0))), ['100:130'])
  const dynamic = eventTimeSessionWindows.withDynamicGap((e: { gap: number }) => e.gap)
  assert.equal(ids(dynamic.assignWindows({ gap: 7 }, 100, clockAt(0))), ['100:107'])
  assert.throws(() => dynamic.assignWindows({ gap: 0 }, 100, clockAt(0)), /positive number/)
})

test('global windows put everything in the one global window and never fire by default', () => {
  const windows = globalWindows().assignWindows('x', undefined, clockAt(0))
  assert.equal(windows, [GlobalWindow.instance])
  assert.instance(globalWindows().defaultTrigger(), NeverTrigger)
  assert.not.ok(isMergingAssigner(globalWindows()))
})

test('rejects bad sizes, slides, offsets and gaps, naming the option', () => {
  const option = (fn: () => unknown) => {
    try {
      fn()
    } catch (error) {
      assert.instance(error, ConfigError)
      return (error as ConfigError).option
    }
    return assert.unreachable('accepted')
  }
  assert.is(
    option(() => tumblingEventTimeWindows(0)),
    'TumblingEventTimeWindows.size',
  )
  assert.is(
    option(() => tumblingEventTimeWindows(10, 10)),
    'TumblingEventTimeWindows.offset',
  )
  assert.is(
    option(() => slidingEventTimeWindows(10, 0)),
    'SlidingEventTimeWindows.slide',
  )
  assert.is(
    option(() => slidingProcessingTimeWindows(10, 5, 5)),
    'SlidingProcessingTimeWindows.offset',
  )
  assert.is(
    option(() => eventTimeSessionWindows(-5)),
    'EventTimeSessionWindows.gap',
  )
})

test.run()

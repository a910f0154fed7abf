import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../lib/errors.js'
import { CountEvictor } from '../../lib/windows/evictors/count-evictor.js'
import type { TimestampedValue } from '../../lib/windows/evictors/evictor.js'
import { TimeEvictor } from '../../lib/windows/evictors/time-evictor.js'
import { GlobalWindow } from '../../lib/windows/global-window.js'

const ctx = { currentProcessingTime: 0, currentWatermark: 0 }
const elements = (...timestamps: (number | undefined)[]): TimestampedValue<string>[] =>
  timestamps.map((timestamp, i) => ({ value: `v${i}`, timestamp }))

test('the count evictor keeps the newest n records, before the function by default', () => {
  const list = elements(1, 2, 3, 4, 5)
  const evictor = CountEvictor.of(3)
  evictor.evictAfter(list, list.length, GlobalWindow.instance, ctx)
  assert.is(list.length, 5, 'nothing evicted after the function')
  evictor.evictBefore(list, list.length, GlobalWindow.instance, ctx)
  assert.equal(
    list.map((e) => e.value),
    ['v2', 'v3', 'v4'],
  )
})

test('the count evictor can evict after the function instead', () => {
  const list = elements(1, 2, 3)
  const evictor = CountEvictor.of(1, true)
  evictor.evictBefore(list, list.length, GlobalWindow.instance, ctx)
  assert.is(list.length, 3)
  evictor.evictAfter(list, list.length, GlobalWindow.instance, ctx)
  assert.equal(
    list.map((e) => e.value),
    ['v2'],
  )
})

test('the time evictor keeps records newer than the newest timestamp minus the window size', () => {
  const list = elements(100, 250, 140, 200)
  TimeEvictor.of(100).evictBefore(list, list.length, GlobalWindow.instance, ctx)
  assert.equal(
    list.map((e) => e.timestamp),
    [250, 200],
    'records at or before 150 go',
  )
})

test('the time evictor leaves records without timestamps alone', () => {
  const list = elements(undefined, undefined)
  TimeEvictor.of(1).evictBefore(list, list.length, GlobalWindow.instance, ctx)
  assert.is(list.length, 2)
})

test('evictors reject bad sizes, naming the option', () => {
  assert.throws(
    () => CountEvictor.of(0),
    (e: unknown) => e instanceof ConfigError && e.option === 'CountEvictor.maxCount',
  )
  assert.throws(
    () => TimeEvictor.of(-1),
    (e: unknown) => e instanceof ConfigError && e.option === 'TimeEvictor.windowSizeMs',
  )
})

test.run()

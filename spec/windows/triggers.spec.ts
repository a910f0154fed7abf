import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { TimeWindow } from '../../lib/windows/time-window.js'
import { CountTrigger } from '../../lib/windows/triggers/count-trigger.js'
import { EventTimeTrigger } from '../../lib/windows/triggers/event-time-trigger.js'
import { ProcessingTimeTrigger } from '../../lib/windows/triggers/processing-time-trigger.js'
import { PurgingTrigger } from '../../lib/windows/triggers/purging-trigger.js'
import type { OnMergeContext, WindowValueState } from '../../lib/windows/triggers/trigger.js'

/** A trigger context over plain maps: state and timers per window id. */
class FakeContext implements OnMergeContext<TimeWindow> {
  window = new TimeWindow(0, 10)
  mergedWindows: TimeWindow[] = []
  watermark = -Infinity
  now = 0
  readonly state = new Map<string, unknown>()
  readonly eventTimers = new Set<string>()
  readonly processingTimers = new Set<string>()

  currentProcessingTime = () => this.now
  currentWatermark = () => this.watermark
  registerEventTimeTimer = (t: number) => void this.eventTimers.add(`${this.window.id}@${t}`)
  registerProcessingTimeTimer = (t: number) => void this.processingTimers.add(`${this.window.id}@${t}`)
  deleteEventTimeTimer = (t: number) => void this.eventTimers.delete(`${this.window.id}@${t}`)
  deleteProcessingTimeTimer = (t: number) => void this.processingTimers.delete(`${this.window.id}@${t}`)

  getState<T>(name: string): WindowValueState<T> {
    const id = () => `${this.window.id}/${name}`
    return {
      value: () => this.state.get(id()) as T | undefined,
      update: (v) => void this.state.set(id(), v),
      clear: () => void this.state.delete(id()),
    }
  }

  mergeState<T>(name: string, merge: (a: T, b: T) => T): void {
    let merged = this.state.get(`${this.window.id}/${name}`) as T | undefined
    for (const w of this.mergedWindows) {
      const v = this.state.get(`${w.id}/${name}`) as T | undefined
      this.state.delete(`${w.id}/${name}`)
      if (v !== undefined) merged = merged === undefined ? v : merge(merged, v)
    }
    if (merged !== undefined) this.state.set(`${this.window.id}/${name}`, merged)
  }
}

test('the event-time trigger waits for the watermark, fires at the window end and at once for late records', () => {
  const ctx = new FakeContext()
  const trigger = EventTimeTrigger.create()
  assert.is(trigger.onElement('x', 3, ctx.window, ctx), 'CONTINUE')
  assert.equal([...ctx.eventTimers], ['0:10@9'])
  assert.is(trigger.onEventTime(5, ctx.window, ctx), 'CONTINUE')
  assert.is(trigger.onEventTime(9, ctx.window, ctx), 'FIRE')
  ctx.watermark = 12
  assert.is(trigger.onElement('late', 4, ctx.window, ctx), 'FIRE')
  trigger.clear(ctx.window, ctx)
  assert.equal([...ctx.eventTimers], [])
})

test('the processing-time trigger fires on its timer at the window end', () => {
  const ctx = new FakeContext()
  const trigger = ProcessingTimeTrigger.create()
  assert.is(trigger.onElement('x', undefined, ctx.window, ctx), 'CONTINUE')
  assert.equal([...ctx.processingTimers], ['0:10@9'])
  assert.is(trigger.onEventTime(9, ctx.window, ctx), 'CONTINUE')
  assert.is(trigger.onProcessingTime(9, ctx.window, ctx), 'FIRE')
})

test('the count trigger fires every n records and restarts its count', () => {
  const ctx = new FakeContext()
  const trigger = CountTrigger.of(3)
  const results = Array.from({ length: 7 }, () => trigger.onElement('x', undefined, ctx.window, ctx))
  assert.equal(results, ['CONTINUE', 'CONTINUE', 'FIRE', 'CONTINUE', 'CONTINUE', 'FIRE', 'CONTINUE'])
  trigger.clear(ctx.window, ctx)
  assert.is(ctx.state.size, 0, 'clear removes the count')
})

test('the count trigger adds up the counts of merged windows', () => {
  const ctx = new FakeContext()
  const trigger = CountTrigger.of(3)
  ctx.window = new TimeWindow(0, 10)
  trigger.onElement('x', undefined, ctx.window, ctx)
  ctx.window = new TimeWindow(20, 30)
  trigger.onElement('x', undefined, ctx.window, ctx)
  ctx.window = new TimeWindow(0, 30)
  ctx.mergedWindows = [new TimeWindow(0, 10), new TimeWindow(20, 30)]
  trigger.onMerge(ctx.window, ctx)
  assert.is(trigger.onElement('x', undefined, ctx.window, ctx), 'FIRE', 'the third record across both sessions fires')
})

test('the purging trigger turns fires into fire-and-purge and passes the rest through', () => {
  const ctx = new FakeContext()
  const trigger = PurgingTrigger.of(CountTrigger.of(2))
  assert.is(trigger.onElement('x', undefined, ctx.window, ctx), 'CONTINUE')
  assert.is(trigger.onElement('x', undefined, ctx.window, ctx), 'FIRE_AND_PURGE')
  assert.is(trigger.name, 'PurgingTrigger(CountTrigger(2))')
  assert.is(trigger.canMerge, true)
})

test.run()

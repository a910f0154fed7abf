import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StateError } from '../../lib/errors.js'
import { ValueStateDescriptor } from '../../lib/state/descriptors.js'
import { eventTimeSessionWindows, processingTimeSessionWindows } from '../../lib/windows/assigners/session.js'
import { slidingProcessingTimeWindows } from '../../lib/windows/assigners/sliding.js'
import { tumblingEventTimeWindows } from '../../lib/windows/assigners/tumbling.js'
import { CountEvictor } from '../../lib/windows/evictors/count-evictor.js'
import type { Evictor } from '../../lib/windows/evictors/evictor.js'
import type { ProcessWindowFunctionObject } from '../../lib/windows/process-window-function.js'
import type { TimeWindow } from '../../lib/windows/time-window.js'
import { CountTrigger } from '../../lib/windows/triggers/count-trigger.js'
import { EventTimeTrigger } from '../../lib/windows/triggers/event-time-trigger.js'
import type { Trigger } from '../../lib/windows/triggers/trigger.js'
import type { WindowAssigner } from '../../lib/windows/window-assigner.js'
import { windowContents } from '../../lib/windows/window-contents.js'
import { WindowOperator } from '../../lib/windows/window-operator.js'
import { ManualClock } from '../time/manual-clock.js'
import { OperatorHarness } from './operator-harness.js'

type Options = {
  trigger?: Trigger<number, TimeWindow>
  evictor?: Evictor<number, TimeWindow>
  allowedLatenessMs?: number
}

/** A window operator whose results say `[start,end) values…`, run by hand. */
function listing(assigner: WindowAssigner<number, TimeWindow>, options: Options = {}, clock = new ManualClock()) {
  const fn: ProcessWindowFunctionObject<number, string, TimeWindow> = {
    process: (_key, ctx, elements, out) => out.collect(`[${ctx.window.start},${ctx.window.end}) ${elements.join(',')}`),
  }
  const operator = new WindowOperator<number, number[], string, TimeWindow>({
    assigner,
    trigger: options.trigger ?? assigner.defaultTrigger(),
    evictor: options.evictor,
    allowedLatenessMs: options.allowedLatenessMs ?? 0,
    lateOutput: undefined,
    contents: windowContents({ kind: 'process', process: fn }, options.evictor),
  })
  return { operator, h: OperatorHarness.keyed(operator, clock) }
}

/** Entries the operator still keeps in keyed state and timers, over all keys. */
function held(operator: WindowOperator<any, any, any, any>): number {
  const backend = operator.keyedState!
  const state = backend.descriptors().reduce((n, d) => n + backend.table(d.name)!.size, 0)
  return state + operator.timers!.eventTimers.size + operator.timers!.processingTimers.size
}

test('drops records later than the allowed lateness and counts them when there is no late output', () => {
  const { operator, h } = listing(tumblingEventTimeWindows(10), { allowedLatenessMs: 5 })
  h.record(1, 1, 'k')
  h.watermark(14)
  h.record(2, 2, 'k') // window [0, 10) ends at 9; 9 + 5 <= 14: cleaned up
  assert.equal(h.output.records(), ['[0,10) 1'])
  assert.is(operator.lateRecordsDropped, 1)
})

test('keeps nothing of a window once its cleanup time has passed', () => {
  const { operator, h } = listing(tumblingEventTimeWindows(10), { allowedLatenessMs: 5, trigger: CountTrigger.of(5) })
  h.record(1, 1, 'a')
  h.record(2, 3, 'b')
  assert.ok(held(operator) > 0)
  h.watermark(14)
  assert.is(held(operator), 0, 'contents, trigger counts, timers and their index are gone')
})

test('a session merged into another leaves no timer of its own behind (general path)', () => {
  // Not the shared default trigger, so the operator keeps a merging window set and a timer per window.
  const perWindowTimers = Object.create(EventTimeTrigger.create()) as Trigger<number, TimeWindow>
  const { operator, h } = listing(eventTimeSessionWindows(10), { trigger: perWindowTimers })
  h.record(1, 0, 'k')
  h.record(2, 18, 'k')
  assert.is(operator.timers!.eventTimers.size, 2)
  h.record(3, 9, 'k')
  assert.equal(
    [...operator.timers!.eventTimers.values()].map((t) => t.timestamp),
    [27],
    'one timer, at the end of [0, 28)',
  )
  h.watermark(27)
  assert.equal(h.output.records(), ['[0,28) 1,2,3'], 'the later session moved into the earlier one, then 3 was added')
  assert.is(held(operator), 0)
})

test('processing-time sessions merge and fire once the wall clock passes the gap', () => {
  const clock = new ManualClock(1_000)
  const { operator, h } = listing(processingTimeSessionWindows(10), {}, clock)
  h.record(1, undefined, 'k')
  clock.advanceTo(1_005)
  h.record(2, undefined, 'k') // [1005, 1015) merges with [1000, 1010)
  clock.advanceTo(1_013)
  assert.equal(h.output.records(), [])
  clock.advanceTo(1_014)
  assert.equal(h.output.records(), ['[1000,1015) 1,2'])
  clock.advanceTo(1_100)
  assert.equal(h.output.records(), ['[1000,1015) 1,2'], 'fires once')
  assert.is(held(operator), 0)
})

test('sliding processing-time windows fire each window at its end, with what arrived during it', () => {
  const clock = new ManualClock(0)
  const { h } = listing(slidingProcessingTimeWindows(20, 10), {}, clock)
  clock.advanceTo(5)
  h.record(1, undefined, 'k')
  clock.advanceTo(15)
  h.record(2, undefined, 'k')
  clock.advanceTo(40)
  assert.equal(h.output.records(), ['[-10,10) 1', '[0,20) 1,2', '[10,30) 2'])
})

test('an evictor keeps only what it leaves of a time window', () => {
  const { h } = listing(tumblingEventTimeWindows(100), { evictor: CountEvictor.of(2) })
  for (const [value, ts] of [
    [1, 10],
    [2, 20],
    [3, 30],
  ] as const)
    h.record(value, ts, 'k')
  h.watermark(99)
  assert.equal(h.output.records(), ['[0,100) 2,3'])
})

test('per-window state is refused with session windows, as in Flink', () => {
  const operator = new WindowOperator<number, number[], string, TimeWindow>({
    assigner: eventTimeSessionWindows(10),
    trigger: eventTimeSessionWindows(10).defaultTrigger(),
    evictor: undefined,
    allowedLatenessMs: 0,
    lateOutput: undefined,
    contents: windowContents(
      {
        kind: 'process',
        process: { process: (_k, ctx) => void ctx.windowState.getState(new ValueStateDescriptor('x')) },
      },
      undefined,
    ),
  })
  const h = OperatorHarness.keyed(operator)
  h.record(1, 0, 'k')
  // Timers run user code under the operator's error policy, which wraps the cause with the operator's name.
  assert.throws(
    () => h.watermark(100),
    (e: unknown) => (e as Error).cause instanceof StateError && /not available with merging/.test((e as Error).message),
  )
})

test.run()

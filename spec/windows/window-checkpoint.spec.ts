import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type KeyedStateSnapshot, KeyedSnapshotWriter } from '../../lib/state/keyed-snapshot.js'
import { storedAndReadBack } from '../support/stored-snapshot.js'
import { globalWindows } from '../../lib/windows/assigners/global.js'
import { eventTimeSessionWindows } from '../../lib/windows/assigners/session.js'
import { slidingEventTimeWindows } from '../../lib/windows/assigners/sliding.js'
import { tumblingEventTimeWindows } from '../../lib/windows/assigners/tumbling.js'
import type { ProcessWindowFunctionObject } from '../../lib/windows/process-window-function.js'
import { CountTrigger } from '../../lib/windows/triggers/count-trigger.js'
import { EventTimeTrigger } from '../../lib/windows/triggers/event-time-trigger.js'
import { PurgingTrigger } from '../../lib/windows/triggers/purging-trigger.js'
import type { Trigger } from '../../lib/windows/triggers/trigger.js'
import type { WindowAssigner } from '../../lib/windows/window-assigner.js'
import { windowContents } from '../../lib/windows/window-contents.js'
import { WindowOperator } from '../../lib/windows/window-operator.js'
import type { Window } from '../../lib/windows/window.js'
import { ManualClock } from '../time/manual-clock.js'
import { OperatorHarness } from './operator-harness.js'

const listing: ProcessWindowFunctionObject<number, string, Window> = {
  process: (_key, ctx, elements, out) =>
    out.collect(`${ctx.window.id}@${ctx.window.maxTimestamp()} ${elements.join(',')}`),
}

function operator(assigner: WindowAssigner<number, Window>, trigger?: Trigger<number, Window>) {
  return new WindowOperator<number, number[], string, Window>({
    assigner,
    trigger: trigger ?? assigner.defaultTrigger(),
    evictor: undefined,
    allowedLatenessMs: 0,
    lateOutput: undefined,
    contents: windowContents({ kind: 'process', process: listing }, undefined),
  })
}

/** A checkpoint of the operator's keyed state and timers, through a state file as checkpoint storage writes it. */
function checkpoint(op: WindowOperator<any, any, any, any>): KeyedStateSnapshot {
  const writer = new KeyedSnapshotWriter(op.keyedState!, op.timers)
  while (!writer.step(50));
  return storedAndReadBack(writer.result())
}

test('session windows, their contents and timers survive a checkpoint and restore', () => {
  const before = OperatorHarness.keyed(operator(eventTimeSessionWindows(10)))
  before.record(1, 0, 'k')
  before.record(2, 18, 'k')
  const snapshot = checkpoint(before.operator as WindowOperator<any, any, any, any>)

  const after = OperatorHarness.keyed(operator(eventTimeSessionWindows(10)), new ManualClock(), {
    keyed: [snapshot],
    split: [],
    union: [],
  })
  after.record(3, 9, 'k') // bridges the two restored sessions
  after.watermark(100)
  assert.equal(after.output.records(), ['0:28@27 1,2,3'])
})

test('a count trigger keeps counting across a restore, in a global window', () => {
  const trigger = PurgingTrigger.of(CountTrigger.of(3)) as Trigger<number, Window>
  const before = OperatorHarness.keyed(operator(globalWindows(), trigger))
  before.record(1, undefined, 'k')
  before.record(2, undefined, 'k')
  const snapshot = checkpoint(before.operator as WindowOperator<any, any, any, any>)

  // Checkpointed again before any record touches the trigger's count: the count must be in it too.
  const restored = OperatorHarness.keyed(operator(globalWindows(), trigger), new ManualClock(), {
    keyed: [snapshot],
    split: [],
    union: [],
  })
  const again = checkpoint(restored.operator as WindowOperator<any, any, any, any>)

  const after = OperatorHarness.keyed(operator(globalWindows(), trigger), new ManualClock(), {
    keyed: [again],
    split: [],
    union: [],
  })
  after.record(3, undefined, 'k')
  assert.equal(after.output.records(), ['global@9007199254740991 1,2,3'])
})

test('tumbling windows of many keys are fired per window end after a restore', () => {
  const before = OperatorHarness.keyed(operator(tumblingEventTimeWindows(10)))
  for (const key of ['a', 'b', 'c']) before.record(1, 3, key)
  before.record(2, 12, 'a')
  const snapshot = checkpoint(before.operator as WindowOperator<any, any, any, any>)
  assert.is(before.operator.timers!.eventTimers.size, 0, 'no timer per key and window')

  const after = OperatorHarness.keyed(operator(tumblingEventTimeWindows(10)), new ManualClock(), {
    keyed: [snapshot],
    split: [],
    union: [],
  })
  after.record(3, 15, 'b')
  after.watermark(9)
  assert.equal(after.output.records(), ['0:10@9 1', '0:10@9 1', '0:10@9 1'])
  after.watermark(19)
  assert.equal(after.output.records().slice(3).sort(), ['10:20@19 2', '10:20@19 3'])
})

test('a checkpoint with a timer per key and window (general path) restores into sliding windows, each fired once', () => {
  // Not the shared default trigger, so the operator takes the general path and checkpoints per-key timers.
  const perKeyTimers = Object.create(EventTimeTrigger.create()) as Trigger<number, Window>
  const before = OperatorHarness.keyed(operator(slidingEventTimeWindows(10, 5), perKeyTimers))
  before.record(1, 7, 'k')
  const snapshot = checkpoint(before.operator as WindowOperator<any, any, any, any>)
  assert.ok(before.operator.timers!.eventTimers.size > 0)

  const after = OperatorHarness.keyed(operator(slidingEventTimeWindows(10, 5)), new ManualClock(), {
    keyed: [snapshot],
    split: [],
    union: [],
  })
  after.record(2, 8, 'k')
  after.watermark(100)
  assert.equal(after.output.records(), ['0:10@9 1,2', '5:15@14 1,2'])
})

test.run()

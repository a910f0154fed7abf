import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { StateError } from '../../lib/errors.js'
import { eventTimeSessionWindows } from '../../lib/windows/assigners/session.js'
import { sessionsSerializer } from '../../lib/windows/event-time-sessions.js'
import type { WindowOperator } from '../../lib/windows/window-operator.js'
import { Rng } from '../support/fault-injection.js'
import { OperatorHarness } from './operator-harness.js'
import {
  checkpoint,
  generalTrigger,
  held,
  inEndOrder,
  refusesGeneralRestore,
  restored,
  windowOperator,
} from './window-operator-harness.js'

test('a record that extends its key’s session registers no timer; the merged session fires once and leaves nothing', () => {
  const op = windowOperator(eventTimeSessionWindows(10))
  const h = OperatorHarness.keyed(op)
  h.record(1, 0, 'k')
  h.record(2, 18, 'k')
  h.record(3, 9, 'k') // bridges [0, 10) and [18, 28)
  h.record(4, 25, 'k') // extends [0, 28) to [0, 35)
  assert.is(op.timers!.eventTimers.size, 0, 'no engine timer per session')
  h.watermark(33)
  assert.equal(h.output.records(), [])
  h.watermark(34)
  assert.equal(h.output.records(), ['k[0,35) 1,2,3,4'])
  h.watermark(1_000)
  assert.equal(h.output.records(), ['k[0,35) 1,2,3,4'], 'fires once')
  assert.is(held(op), 0)
})

test('a late record that touches an open session joins it; one that touches none is dropped and counted', () => {
  const op = windowOperator(eventTimeSessionWindows(10))
  const h = OperatorHarness.keyed(op)
  h.record(1, 20, 'k')
  h.watermark(15)
  h.record(2, 12, 'k') // [12, 22) is not late (21 > 15) and joins [20, 30)
  h.record(3, 3, 'k') // [3, 13) ends at 12 <= 15: late, but it touches [12, 30)
  h.record(4, 1, 'j') // [1, 11): late, no session of j
  assert.is(op.lateRecordsDropped, 1)
  h.watermark(100)
  assert.equal(h.output.records(), ['k[3,30) 1,2,3'])
})

/**
 * The session path against the general merging path (merging window set, timer per window), on the
 * same seeded input: several keys, out-of-order timestamps, dynamic gaps, watermarks in between and
 * late records. Output, in order of window end, and late counts must be equal.
 */
test('the session path fires exactly what the general merging path fires, in the same order of window ends (seeded)', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rng = new Rng(seed)
    const gap = eventTimeSessionWindows.withDynamicGap((x: number) => 5 + (x % 7))
    const fast = windowOperator(gap)
    const general = windowOperator(gap, generalTrigger())
    const hs = [OperatorHarness.keyed(fast), OperatorHarness.keyed(general)]
    let time = 0
    let watermark = -1
    for (let i = 0; i < 400; i++) {
      time += rng.int(0, 6)
      const timestamp = Math.max(0, time - rng.int(0, 25))
      const key = `k${rng.int(0, 4)}`
      for (const h of hs) h.record(i, timestamp, key)
      if (rng.chance(0.1)) {
        watermark = Math.max(watermark, time - rng.int(0, 15))
        for (const h of hs) h.watermark(watermark)
      }
    }
    for (const h of hs) h.watermark(Number.POSITIVE_INFINITY)
    assert.equal(inEndOrder(hs[0]!), inEndOrder(hs[1]!), `seed ${seed}`)
    assert.ok(hs[0]!.output.records().length > 10, `seed ${seed}: sessions fired`)
    assert.is(fast.lateRecordsDropped, general.lateRecordsDropped, `seed ${seed}: late records`)
    assert.is(held(fast), 0, `seed ${seed}: nothing held at the end`)
  }
})

test('sessions and their contents survive a checkpoint of the session path', () => {
  const before = OperatorHarness.keyed(windowOperator(eventTimeSessionWindows(10)))
  before.record(1, 0, 'a')
  before.record(2, 18, 'a')
  before.record(3, 5, 'b')
  before.watermark(2)
  const after = restored(
    windowOperator(eventTimeSessionWindows(10)),
    checkpoint(before.operator as WindowOperator<any, any, any, any>),
  )
  after.record(4, 9, 'a') // bridges the two restored sessions of a
  after.watermark(14)
  assert.equal(after.output.records(), ['b[5,15) 3'])
  after.watermark(100)
  assert.equal(after.output.records(), ['b[5,15) 3', 'a[0,28) 1,2,4'])
})

test('a checkpoint of the general merging path (window set, timers) restores into the session path', () => {
  const general = windowOperator(eventTimeSessionWindows(10), generalTrigger())
  const before = OperatorHarness.keyed(general)
  before.record(1, 0, 'a')
  before.record(2, 18, 'a')
  before.record(3, 5, 'b')
  before.record(4, 9, 'b')
  const snapshot = checkpoint(general)
  assert.ok(general.timers!.eventTimers.size > 0, 'the old layout has a timer per session')

  const fast = windowOperator(eventTimeSessionWindows(10))
  const after = restored(fast, snapshot)
  assert.is(fast.timers!.eventTimers.size, 0, 'the old timers are dropped: the sessions fire by their end')
  after.record(5, 9, 'a')
  after.watermark(18)
  assert.equal(after.output.records(), ['b[5,19) 3,4'])
  after.watermark(100)
  assert.equal(after.output.records(), ['b[5,19) 3,4', 'a[0,28) 1,2,5'], 'each session fires once')
  assert.is(held(fast), 0)
})

test('a checkpoint of the session path refuses, by code, to restore into the general merging path', () => {
  refusesGeneralRestore(eventTimeSessionWindows(10), 'sluice.window.sessions')
})

test("the session state serializer writes a key's sessions oldest first and names a version it cannot read", () => {
  const older = { start: 0, end: 10, contents: [1], indexedAt: 9, previous: undefined }
  const latest = { start: 20, end: 30, contents: [2, 3], indexedAt: 29, previous: older }
  const data = sessionsSerializer.serialize(latest)
  assert.equal(JSON.parse(JSON.stringify(data)).length, 2)
  const back = sessionsSerializer.deserialize(JSON.parse(JSON.stringify(data)), 1)
  assert.equal(back, latest)
  try {
    sessionsSerializer.deserialize(data, 2)
    assert.unreachable('read version 2')
  } catch (error) {
    assert.is((error as StateError).code, 'ERR_SERIALIZER_VERSION')
  }
})

test.run()

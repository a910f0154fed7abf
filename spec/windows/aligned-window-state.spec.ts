import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { StateError } from '../../lib/errors.js'
import { alignedWindowsSerializer } from '../../lib/windows/aligned-window-state.js'
import { slidingEventTimeWindows } from '../../lib/windows/assigners/sliding.js'
import { tumblingEventTimeWindows } from '../../lib/windows/assigners/tumbling.js'
import type { WindowOperator } from '../../lib/windows/window-operator.js'
import { Rng } from '../support/fault-injection.js'
import type { TimeWindow } from '../../lib/windows/time-window.js'
import type { WindowAssigner } from '../../lib/windows/window-assigner.js'
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

test('the aligned path fires exactly what the general path fires, in the same order of window ends (seeded)', () => {
  const assigners: WindowAssigner<number, TimeWindow>[] = [
    tumblingEventTimeWindows(10),
    slidingEventTimeWindows(12, 4),
    slidingEventTimeWindows(10, 3, 1),
    slidingEventTimeWindows(4, 10), // gaps between windows: some records fall in none
  ]
  for (const assigner of assigners)
    for (let seed = 1; seed <= 25; seed++) {
      const rng = new Rng(seed)
      const fast = windowOperator(assigner)
      const general = windowOperator(assigner, generalTrigger())
      const hs = [OperatorHarness.keyed(fast), OperatorHarness.keyed(general)]
      let time = 0
      let watermark = -1
      for (let i = 0; i < 300; i++) {
        time += rng.int(0, 4)
        const timestamp = Math.max(0, time - rng.int(0, 30)) // out of order: a key's older windows get records too
        const key = `k${rng.int(0, 4)}`
        for (const h of hs) h.record(i, timestamp, key)
        if (rng.chance(0.1)) {
          watermark = Math.max(watermark, time - rng.int(0, 15))
          for (const h of hs) h.watermark(watermark)
        }
      }
      for (const h of hs) h.watermark(Number.POSITIVE_INFINITY)
      const label = `${assigner.name} seed ${seed}`
      assert.equal(inEndOrder(hs[0]!), inEndOrder(hs[1]!), label)
      assert.ok(hs[0]!.output.records().length > 10, `${label}: windows fired`)
      assert.is(fast.lateRecordsDropped, general.lateRecordsDropped, `${label}: late records`)
      assert.is(fast.timers!.eventTimers.size, 0, `${label}: no engine timer on the aligned path`)
      assert.is(held(fast), 0, `${label}: nothing held at the end`)
    }
})

test('windows and their contents survive a checkpoint of the aligned path', () => {
  const before = OperatorHarness.keyed(windowOperator(slidingEventTimeWindows(10, 5)))
  before.record(1, 7, 'a')
  before.record(2, 3, 'b')
  before.watermark(4)
  const after = restored(
    windowOperator(slidingEventTimeWindows(10, 5)),
    checkpoint(before.operator as WindowOperator<any, any, any, any>),
  )
  after.record(3, 8, 'a')
  after.watermark(9)
  assert.equal(after.output.records().sort(), ['a[0,10) 1,3', 'b[0,10) 2'])
  after.watermark(100)
  assert.equal(after.output.records().slice(2), ['a[5,15) 1,3'])
})

test('a checkpoint of the aligned path refuses, by code, to restore into the general path', () => {
  refusesGeneralRestore(tumblingEventTimeWindows(10), 'sluice.window.aligned')
})

test('the aligned window state serializer names a version it cannot read', () => {
  const data = alignedWindowsSerializer.serialize({ ends: [10, 15], contents: [[1], [1, 2]] })
  assert.equal(alignedWindowsSerializer.deserialize(JSON.parse(JSON.stringify(data)), 1), {
    ends: [10, 15],
    contents: [[1], [1, 2]],
  })
  try {
    alignedWindowsSerializer.deserialize(data, 2)
    assert.unreachable('read version 2')
  } catch (error) {
    assert.is((error as StateError).code, 'ERR_SERIALIZER_VERSION')
  }
})

test.run()

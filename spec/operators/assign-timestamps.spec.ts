import { Subject, from, lastValueFrom, toArray } from 'rxjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../lib/errors.js'
import { assignTimestampsAndWatermarks } from '../../lib/operators/assign-timestamps.js'
import { keyBy } from '../../lib/operators/key-by.js'
import { process } from '../../lib/operators/process.js'
import { reduce } from '../../lib/operators/reduce.js'
import { window } from '../../lib/operators/window.js'
import { TimestampsAndWatermarksOperator } from '../../lib/time/watermark-operator.js'
import { WatermarkStrategy } from '../../lib/time/watermark-strategy.js'
import { tumblingEventTimeWindows } from '../../lib/windows/assigners/tumbling.js'
import { waitFor } from '../support/wait-for.js'
import { ManualClock } from '../time/manual-clock.js'
import { OperatorHarness } from '../windows/operator-harness.js'

interface Ev {
  id: string
  at: number
}

const byAt = <T extends { at: number }>(delayMs: number) =>
  WatermarkStrategy.forBoundedOutOfOrderness<T>(delayMs).withTimestampAssigner((e) => e.at)

test('sets each record timestamp from the assigner', async () => {
  const stamped = await lastValueFrom(
    from<Ev[]>([
      { id: 'a', at: 30 },
      { id: 'b', at: 10 },
    ]).pipe(
      assignTimestampsAndWatermarks(byAt<Ev>(0)),
      process<Ev, [string, number | undefined]>((e, ctx, out) => out.collect([e.id, ctx.timestamp])),
      toArray(),
    ),
  )
  assert.equal(stamped, [
    ['a', 30],
    ['b', 10],
  ])
})

test('emits maxTimestamp - delay - 1 every interval of processing time, and only when it moves forward', () => {
  const h = OperatorHarness.unkeyed(new TimestampsAndWatermarksOperator<Ev>(byAt<Ev>(100), 200), new ManualClock(0))
  h.record({ id: 'a', at: 1_000 })
  assert.equal(h.output.watermarks(), [], 'nothing before the first interval')
  h.clock.advanceTo(200)
  assert.equal(h.output.watermarks(), [899])
  h.record({ id: 'b', at: 1_500 })
  h.record({ id: 'c', at: 1_100 })
  h.clock.advanceTo(400)
  h.clock.advanceTo(600)
  assert.equal(h.output.watermarks(), [899, 1_399], 'the same watermark is not emitted twice')
})

test('never emits a watermark that goes backwards', () => {
  const values = [50, 20, 60, 60, 10]
  const strategy = WatermarkStrategy.forGenerator<number>(() => ({
    onEvent: (v, _ts, out) => out.emitWatermark(v),
    onPeriodicEmit() {},
  })).withTimestampAssigner((v) => v)
  const h = OperatorHarness.unkeyed(new TimestampsAndWatermarksOperator<number>(strategy, 200))
  for (const v of values) h.record(v)
  assert.equal(h.output.watermarks(), [50, 60])
})

test('a watermark emitted on an event follows the record it was derived from', () => {
  const strategy = WatermarkStrategy.forGenerator<number>(() => ({
    onEvent: (_v, ts, out) => out.emitWatermark(ts),
    onPeriodicEmit() {},
  })).withTimestampAssigner((v) => v)
  const h = OperatorHarness.unkeyed(new TimestampsAndWatermarksOperator<number>(strategy, 200))
  h.record(5)
  assert.equal(h.output.emitted, [
    { kind: 'record', value: 5, timestamp: 5 },
    { kind: 'watermark', watermark: 5 },
  ])
})

test('drops upstream watermarks but forwards the end-of-input watermark and stops its timer', () => {
  const h = OperatorHarness.unkeyed(new TimestampsAndWatermarksOperator<Ev>(byAt<Ev>(0), 200))
  h.watermark(5_000)
  h.operator.processWatermarkStatus(true)
  assert.equal(h.output.emitted, [])
  h.watermark(Infinity)
  assert.equal(h.output.watermarks(), [Infinity])
  assert.is(h.clock.scheduled, 0, 'no periodic emit is pending after the end of input')
})

test('marks its output idle after the idleness timeout and active again on the next record', () => {
  const strategy = byAt<Ev>(0).withIdleness(100)
  const h = OperatorHarness.unkeyed(new TimestampsAndWatermarksOperator<Ev>(strategy, 50), new ManualClock(0))
  h.record({ id: 'a', at: 10 })
  h.clock.advanceTo(100)
  assert.equal(h.output.statuses(), [], 'not idle while it just had a record')
  h.clock.advanceTo(250)
  assert.equal(h.output.statuses(), [true])
  const before = h.output.emitted.length
  h.record({ id: 'b', at: 20 })
  assert.equal(h.output.emitted.slice(before), [
    { kind: 'status', idle: false },
    { kind: 'record', value: { id: 'b', at: 20 }, timestamp: 20 },
  ])
  h.clock.advanceTo(300)
  assert.equal(h.output.statuses(), [true, false], 'one record keeps it active')
})

test('fails naming the value when the assigner returns no finite number', () => {
  const strategy = WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner(() => Number.NaN)
  const h = OperatorHarness.unkeyed(new TimestampsAndWatermarksOperator<Ev>(strategy, 200))
  assert.throws(() => h.record({ id: 'a', at: 1 }), /timestamp assigner returned NaN/)
})

test('rejects a bad strategy or interval, naming the option', () => {
  assert.throws(
    () => assignTimestampsAndWatermarks({} as never),
    (e: unknown) => e instanceof ConfigError && e.option === 'assignTimestampsAndWatermarks',
  )
  assert.throws(
    () => assignTimestampsAndWatermarks(byAt<Ev>(0), { intervalMs: 0 }),
    (e: unknown) => e instanceof ConfigError && e.option === 'assignTimestampsAndWatermarks.intervalMs',
  )
})

test('periodic watermarks fire event-time windows while the input is still open', async () => {
  const input = new Subject<Ev>()
  const sums: number[] = []
  let completed = false
  const done = new Promise<void>((resolve, reject) => {
    input
      .pipe(
        assignTimestampsAndWatermarks(byAt<Ev>(0), { intervalMs: 5 }),
        keyBy((e) => e.id),
        window(tumblingEventTimeWindows(10)),
        reduce((a, b) => ({ id: a.id, at: a.at + b.at })),
      )
      .subscribe({
        next: (e) => sums.push(e.at),
        error: reject,
        complete: () => {
          completed = true
          resolve()
        },
      })
  })
  input.next({ id: 'k', at: 1 })
  input.next({ id: 'k', at: 2 })
  input.next({ id: 'k', at: 15 })
  await waitFor(() => sums.length === 1, { description: 'window [0, 10) fired by a periodic watermark' })
  assert.equal(sums, [3])
  assert.not.ok(completed)
  input.complete()
  await done
  assert.equal(sums, [3, 15])
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../lib/errors.js'
import { BoundedOutOfOrdernessWatermarks } from '../../lib/time/watermark-bounded-out-of-orderness.js'
import type { WatermarkOutput } from '../../lib/time/watermark-generator.js'
import { WatermarksWithIdleness } from '../../lib/time/watermark-idleness.js'
import { WatermarkStrategy, validateWatermarkStrategy } from '../../lib/time/watermark-strategy.js'
import { kafkaSource } from '../../lib/connectors/kafka/index.js'
import { kinesisSource } from '../../lib/connectors/kinesis/index.js'
import { ManualClock } from './manual-clock.js'

class RecordingWatermarkOutput implements WatermarkOutput {
  readonly events: (number | 'idle' | 'active')[] = []
  emitWatermark(watermark: number): void {
    this.events.push(watermark)
  }
  markIdle(): void {
    this.events.push('idle')
  }
  markActive(): void {
    this.events.push('active')
  }
}

test('bounded out-of-orderness emits the newest timestamp minus the delay minus 1', () => {
  const generator = new BoundedOutOfOrdernessWatermarks<string>(100)
  const output = new RecordingWatermarkOutput()
  generator.onEvent('a', 1_000, output)
  generator.onEvent('b', 1_500, output)
  generator.onEvent('c', 1_200, output) // out of order: does not pull the watermark back
  assert.equal(output.events, [], 'a periodic generator emits nothing per record')
  generator.onPeriodicEmit(output)
  assert.equal(output.events, [1_399])
})

test('bounded out-of-orderness emits nothing before the first record', () => {
  const output = new RecordingWatermarkOutput()
  new BoundedOutOfOrdernessWatermarks<string>(10).onPeriodicEmit(output)
  assert.equal(output.events, [])
})

test('monotonous timestamps trail the newest timestamp by 1 ms', () => {
  const generator = WatermarkStrategy.forMonotonousTimestamps<number>()
    .withTimestampAssigner((v) => v)
    .createGenerator()
  const output = new RecordingWatermarkOutput()
  generator.onEvent(50, 50, output)
  generator.onPeriodicEmit(output)
  assert.equal(output.events, [49])
})

test('noWatermarks never emits a watermark', () => {
  const generator = WatermarkStrategy.noWatermarks<number>().createGenerator()
  const output = new RecordingWatermarkOutput()
  generator.onEvent(1, 1_000, output)
  generator.onPeriodicEmit(output)
  assert.equal(output.events, [])
})

test('the builder keeps the assigner and idleness and makes a new generator per call', () => {
  const strategy = WatermarkStrategy.forBoundedOutOfOrderness<{ at: number }>(5)
    .withTimestampAssigner((e) => e.at)
    .withIdleness(1_000)
  assert.is(strategy.timestampAssigner({ at: 42 }, undefined), 42)
  assert.is(strategy.idlenessMs, 1_000)
  assert.is.not(strategy.createGenerator(), strategy.createGenerator())
})

test('the default timestamp assigner keeps the record timestamp and fails without one, naming the fix', () => {
  const strategy = WatermarkStrategy.forBoundedOutOfOrderness<string>(0)
  assert.is(strategy.timestampAssigner('x', 7), 7)
  try {
    strategy.timestampAssigner('x', undefined)
    assert.unreachable('a record without timestamp was given one')
  } catch (error) {
    assert.instance(error, ConfigError)
    assert.match((error as Error).message, /withTimestampAssigner/)
  }
})

test('rejects a negative out-of-orderness and a non-positive idleness, naming the option', () => {
  assert.throws(
    () => WatermarkStrategy.forBoundedOutOfOrderness(-1),
    (e: unknown) => e instanceof ConfigError && e.option === 'forBoundedOutOfOrderness',
  )
  assert.throws(
    () => WatermarkStrategy.forMonotonousTimestamps().withIdleness(0),
    (e: unknown) => e instanceof ConfigError && e.option === 'withIdleness',
  )
})

test('idleness marks the output idle after a quiet period and passes on watermarks while records flow', () => {
  const clock = new ManualClock(0)
  const generator = new WatermarksWithIdleness(new BoundedOutOfOrdernessWatermarks<string>(0), 100, clock)
  const output = new RecordingWatermarkOutput()
  generator.onEvent('a', 10, output)
  generator.onPeriodicEmit(output) // records since last check: active, emits
  clock.advanceTo(50)
  generator.onPeriodicEmit(output) // quiet since now: starts counting
  clock.advanceTo(120)
  generator.onPeriodicEmit(output) // quiet for 70 ms: still active
  clock.advanceTo(150)
  generator.onPeriodicEmit(output) // quiet for 100 ms: idle
  assert.equal(output.events, [9, 9, 9, 'idle'])
  generator.onEvent('b', 20, output)
  generator.onPeriodicEmit(output)
  assert.equal(output.events, [9, 9, 9, 'idle', 19], 'a record ends the idleness')
})

test('a strategy given to an operator or a source is checked when the job is built, idleness included', () => {
  const handMade = {
    timestampAssigner: (_: unknown, ts: number | undefined) => ts ?? 0,
    createGenerator: () => new BoundedOutOfOrdernessWatermarks(0),
    idlenessMs: -5,
  }
  assert.throws(
    () => validateWatermarkStrategy('x.watermarks', handMade),
    (e: unknown) => e instanceof ConfigError && /x\.watermarks\.idlenessMs/.test(e.message),
  )
  assert.throws(
    () => validateWatermarkStrategy('x.watermarks', { createGenerator: 1 }),
    (e: unknown) => e instanceof ConfigError && /x\.watermarks/.test(e.message),
  )
  validateWatermarkStrategy('x.watermarks', WatermarkStrategy.forBoundedOutOfOrderness(10).withIdleness(1_000))
  assert.throws(
    () => kafkaSource({ brokers: ['127.0.0.1:9092'], topics: 't', watermarks: handMade as never }),
    /kafkaSource\.watermarks\.idlenessMs/,
  )
  assert.throws(
    () => kinesisSource({ stream: 's', watermarks: handMade as never } as never),
    /kinesisSource\.watermarks\.idlenessMs/,
  )
})

test.run()

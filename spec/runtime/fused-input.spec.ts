import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type DeadLetter, type JobMetricsSnapshot, OutputTag, StreamEnvironment, filter, map } from '../../lib/index.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { assignTimestampsAndWatermarks } from '../../lib/operators/assign-timestamps.js'
import { keyBy } from '../../lib/operators/key-by.js'
import { process } from '../../lib/operators/process.js'
import { reduce } from '../../lib/operators/reduce.js'
import { window } from '../../lib/operators/window.js'
import { WatermarkStrategy } from '../../lib/time/watermark-strategy.js'
import { tumblingEventTimeWindows } from '../../lib/windows/assigners/tumbling.js'

// Chained maps and filters run as one fused record path (lib/runtime/fused-input.ts): what each
// operator counts, which operator a failure is charged to, and the watermarks must not change. Counts
// that equal another are derived, not counted per record (lib/runtime/operator-metrics.ts): records in
// from an upstream that feeds the operator alone, and a fused map's records out.

const countsOf = (metrics: JobMetricsSnapshot, name: string) => {
  const o = metrics.operators.find((m) => m.operator === name)!
  return [o.recordsIn, o.recordsOut]
}

test('a fused run of maps and filters counts records in and out per operator', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  const out: number[] = []
  env
    .fromSequence(1, 1_000)
    .pipe(
      map((x: number) => x * 2, { name: 'double', uid: 'double' }),
      filter((x: number) => x % 3 !== 0, { name: 'not-three', uid: 'not-three' }),
      map((x: number) => x + 1, { name: 'inc', uid: 'inc' }),
    )
    .sinkTo(new CallbackSink((v: number) => out.push(v)), { name: 'sink', uid: 'sink' })
  const { metrics } = await env.execute()
  const counts = (name: string) => {
    const o = metrics.operators.find((m) => m.operator === name)!
    return [o.recordsIn, o.recordsOut]
  }
  assert.equal(counts('double'), [1_000, 1_000])
  assert.equal(counts('not-three'), [1_000, 667])
  assert.equal(counts('inc'), [667, 667])
  assert.is(metrics.operators.find((m) => m.operator === 'sink')!.recordsIn, 667)
  assert.is(out.length, 667)
  assert.is(out[0], 3)
})

test('a failure inside a fused run is charged to the operator that failed, and the records after it go on', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  const out: number[] = []
  env
    .fromCollection([1, 2, 3, 4])
    .pipe(
      map((x: number) => x * 10, { name: 'tens' }),
      filter(
        (x: number) => {
          if (x === 20) throw new Error('no twenties')
          return true
        },
        { name: 'picky', onError: 'resume' },
      ),
      map((x: number) => x + 1, { name: 'inc', uid: 'inc' }),
    )
    .sinkTo(new CallbackSink((v: number) => out.push(v)))
  const job = env.executeAsync()
  const letters: DeadLetter[] = []
  job.deadLetters.subscribe((l) => letters.push(l))
  const result = await job.result
  assert.equal(out, [11, 31, 41])
  assert.is(letters.length, 1)
  assert.is(letters[0]!.operator, 'picky')
  assert.is(letters[0]!.record, 20)
  assert.is(result.metrics.operators.find((m) => m.operator === 'inc')!.recordsIn, 3)
})

test('a fused map that fails on a record under resume counts it in, not out', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  const out: number[] = []
  env
    .fromCollection([1, 2, 3, 4])
    .pipe(
      map(
        (x: number) => {
          if (x === 2) throw new Error('no twos')
          return x * 10
        },
        { name: 'tens', uid: 'tens', onError: 'resume' },
      ),
      map((x: number) => x + 1, { name: 'inc', uid: 'inc' }),
    )
    .sinkTo(new CallbackSink((v: number) => out.push(v)), { name: 'sink', uid: 'sink' })
  const { metrics } = await env.execute()
  assert.equal(out, [11, 31, 41])
  assert.equal(countsOf(metrics, 'tens'), [4, 3])
  assert.equal(countsOf(metrics, 'inc'), [3, 3])
  assert.equal(countsOf(metrics, 'sink'), [3, 0])
})

test('records that reach a fused map as a side output are counted in', async () => {
  const threes = new OutputTag<number>('threes')
  const env = StreamEnvironment.create({ logLevel: 'silent', parallelism: 1 })
  const others = env.fromSequence(1, 10).pipe(
    process((x: number, ctx, out) => (x % 3 === 0 ? ctx.output(threes, x) : out.collect(x)), {
      name: 'split',
      uid: 'split',
    }),
  )
  const negated: number[] = []
  others
    .getSideOutput(threes)
    .pipe(map((x: number) => -x, { name: 'negate', uid: 'negate' }))
    .sinkTo(new CallbackSink((v: number) => negated.push(v)), { name: 'threes-sink', uid: 'threes-sink' })
  others.sinkTo(new CallbackSink(() => {}), { name: 'others-sink', uid: 'others-sink' })
  const { metrics } = await env.execute()
  assert.equal(negated, [-3, -6, -9])
  assert.equal(countsOf(metrics, 'split'), [10, 7], 'records out count the main output only')
  assert.equal(countsOf(metrics, 'negate'), [3, 3])
  assert.equal(countsOf(metrics, 'threes-sink'), [3, 0])
  assert.equal(countsOf(metrics, 'others-sink'), [7, 0])
})

test('an upstream with two targets: each counts the records that reached it, also when the first fails the job', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent', parallelism: 1 })
  const numbers = env.fromCollection([1, 2, 3], { name: 'numbers', uid: 'numbers' })
  numbers
    .pipe(
      map(
        (x: number) => {
          if (x === 2) throw new Error('no twos')
          return x
        },
        { name: 'picky', uid: 'picky' },
      ),
    )
    .sinkTo(new CallbackSink(() => {}), { name: 'picky-sink', uid: 'picky-sink' })
  const calm: number[] = []
  numbers
    .pipe(map((x: number) => x, { name: 'calm', uid: 'calm' }))
    .sinkTo(new CallbackSink((v: number) => calm.push(v)), { name: 'calm-sink', uid: 'calm-sink' })
  const job = env.executeAsync()
  await job.result.then(
    () => assert.unreachable('the job should fail'),
    () => {},
  )
  const metrics = job.metrics()
  assert.equal(calm, [1], 'record 2 failed the job in picky before it reached calm')
  assert.equal(countsOf(metrics, 'numbers'), [0, 2])
  assert.equal(countsOf(metrics, 'picky'), [2, 1])
  assert.equal(countsOf(metrics, 'picky-sink'), [1, 0])
  assert.equal(countsOf(metrics, 'calm'), [1, 1])
  assert.equal(countsOf(metrics, 'calm-sink'), [1, 0])
})

test('watermarks pass through fused operators to an event-time window after them', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  const strategy = WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((x) => x)
  const sums = await env
    .fromSequence(0, 29)
    .pipe(
      assignTimestampsAndWatermarks(strategy),
      map((x: number) => x),
      filter(() => true),
      keyBy(() => 'all'),
      window(tumblingEventTimeWindows(10)),
      reduce((a: number, b: number) => a + b),
    )
    .executeAndCollect()
  assert.equal(sums, [45, 145, 245])
})

test.run()

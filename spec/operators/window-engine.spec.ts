import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  StreamEnvironment,
  WatermarkStrategy,
  OutputTag,
  aggregate,
  assignTimestampsAndWatermarks,
  countWindow,
  eventTimeSessionWindows,
  keyBy,
  process,
  reduce,
  slidingEventTimeWindows,
  tumblingEventTimeWindows,
  window,
} from '../../lib/index.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { runEmbedded, runEngine, sorted } from '../support/modes.js'
import { SharedGate } from '../support/shared-gate.js'

interface Ev {
  key: string
  at: number
  n: number
}

/** 3,000 events over 30 s of event time, 20 keys, shuffled within 500 ms (out of order). */
const events: Ev[] = Array.from({ length: 3_000 }, (_, i) => ({
  key: `k${i % 20}`,
  at: i * 10 - ((i * 7919) % 50),
  n: (i % 5) + 1,
}))
const strategy = WatermarkStrategy.forBoundedOutOfOrderness<Ev>(500).withTimestampAssigner((e) => e.at)
const sum = (a: Ev, b: Ev): Ev => ({ key: a.key, at: Math.max(a.at, b.at), n: a.n + b.n })
const stamp = (e: Ev) => `${e.key}:${e.n}`

function expectedTumbling(size: number): string[] {
  const buckets = new Map<string, number>()
  for (const e of events) {
    const id = `${e.key}|${Math.floor(e.at / size)}`
    buckets.set(id, (buckets.get(id) ?? 0) + e.n)
  }
  return [...buckets].map(([id, n]) => `${id.split('|')[0]}:${n}`)
}

test('tumbling event-time windows at parallelism 1 and 3 in the engine equal the expected per-window sums, as in embedded mode', async () => {
  const ops = [
    assignTimestampsAndWatermarks(strategy, { intervalMs: 1 }),
    keyBy((e: Ev) => e.key),
    window(tumblingEventTimeWindows(1_000)),
    reduce(sum),
  ] as const
  const expected = sorted(expectedTumbling(1_000))
  assert.equal(sorted((await runEmbedded<Ev>(events, ...ops)).map(stamp)), expected)
  for (const parallelism of [1, 3])
    assert.equal(
      sorted((await runEngine<Ev>(events, { parallelism }, ...ops)).map(stamp)),
      expected,
      `parallelism ${parallelism}`,
    )
})

test('sliding windows and aggregate give the same results in the engine at parallelism 2 as embedded', async () => {
  const count = { createAccumulator: () => 0, add: (_e: Ev, n: number) => n + 1, getResult: (n: number) => n }
  const ops = [
    assignTimestampsAndWatermarks(strategy),
    keyBy((e: Ev) => e.key),
    window(slidingEventTimeWindows(2_000, 500)),
    aggregate(count),
  ] as const
  const embedded = await runEmbedded<number>(events, ...ops)
  const engine = await runEngine<number>(events, { parallelism: 2 }, ...ops)
  assert.ok(embedded.length > 0)
  assert.equal(sorted(engine), sorted(embedded))
  assert.is(
    engine.reduce((a, b) => a + b, 0),
    events.length * 4,
  )
})

test('session windows merge per key in the engine', async () => {
  const bursts: Ev[] = [
    { key: 'a', at: 0, n: 1 },
    { key: 'a', at: 100, n: 1 },
    { key: 'b', at: 50, n: 1 },
    { key: 'a', at: 5_000, n: 1 },
    { key: 'a', at: 250, n: 1 },
    { key: 'b', at: 5_100, n: 1 },
  ]
  const s = WatermarkStrategy.forBoundedOutOfOrderness<Ev>(1_000).withTimestampAssigner((e) => e.at)
  const out = await runEngine<Ev>(
    bursts,
    { parallelism: 2 },
    assignTimestampsAndWatermarks(s),
    keyBy((e: Ev) => e.key),
    window(eventTimeSessionWindows(1_000)),
    reduce(sum),
  )
  assert.equal(sorted(out.map(stamp)), sorted(['a:3', 'a:1', 'b:1', 'b:1']))
})

test('late records go to the side output in the engine', async () => {
  const late = new OutputTag<Ev>('late')
  const input: Ev[] = [
    { key: 'a', at: 100, n: 1 },
    { key: 'a', at: 5_000, n: 1 },
    { key: 'a', at: 200, n: 7 },
  ]
  // the third record comes once window [0, 1000) has fired: the watermark has passed its end, it is gone
  const slowLate: Ev[] = []
  const slowResults: Ev[] = []
  // opened by the sink's function (on the coordinator), awaited by the source (in its worker on the worker pass)
  const fired = new SharedGate()
  const slow = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent' })
  const slowWindowed = slow
    .fromAsyncIterable(async function* () {
      yield input[0]!
      yield input[1]!
      await fired.opened() // window [0, 1000) fired
      yield input[2]!
    })
    .pipe(
      assignTimestampsAndWatermarks(
        WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.at),
        { intervalMs: 1, parallelism: 1 },
      ),
      keyBy((e: Ev) => e.key),
      window(tumblingEventTimeWindows(1_000), { lateOutput: late }),
      reduce(sum),
    )
  slowWindowed.getSideOutput(late).sinkTo(new CallbackSink((e: Ev) => slowLate.push(e)))
  slowWindowed.sinkTo(
    new CallbackSink((e: Ev) => {
      slowResults.push(e)
      fired.open()
    }),
  )
  await slow.execute()
  assert.equal(
    slowLate.map((e) => e.n),
    [7],
  )
  assert.equal(sorted(slowResults.map(stamp)), ['a:1', 'a:1'])
})

test('count windows and process window functions run in the engine', async () => {
  const out = await runEngine<string>(
    events.slice(0, 100),
    { parallelism: 2 },
    keyBy((e: Ev) => e.key),
    countWindow(5),
    process((key: unknown, _ctx: unknown, elements: Ev[], outc: { collect(v: string): void }) =>
      outc.collect(`${String(key)}:${elements.length}`),
    ),
  )
  assert.is(out.length, 20)
  for (const line of out) assert.match(line, /:5$/)
})

test.run()

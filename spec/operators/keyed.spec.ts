import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  KeyedStream,
  StreamEnvironment,
  aggregate,
  keyBy,
  map,
  reduce,
  process,
  ValueStateDescriptor,
  keyGroupOf,
  KeyGroupRange,
  type ProcessFunction,
  type ValueState,
  type RuntimeContext,
  type ProcessContext,
  type Collector,
} from '../../lib/index.js'
import { ConfigError } from '../../lib/errors.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { runEmbedded, runEngine, sorted } from '../support/modes.js'

type Sale = { shop: string; amount: number }
const sales: Sale[] = Array.from({ length: 3000 }, (_, i) => ({ shop: `shop-${i % 37}`, amount: (i * 7) % 11 }))

function finalPerKey(out: Sale[]): Map<string, number> {
  const last = new Map<string, number>()
  for (const s of out) last.set(s.shop, s.amount)
  return last
}

const expectedTotals = new Map<string, number>()
for (const s of sales) expectedTotals.set(s.shop, (expectedTotals.get(s.shop) ?? 0) + s.amount)

test('reduce emits a running result per key, the same in embedded mode and at parallelism 1 and 3', async () => {
  const ops = [
    keyBy((s: Sale) => s.shop),
    reduce((a: Sale, b: Sale) => ({ shop: a.shop, amount: a.amount + b.amount })),
  ] as const
  const embedded = await runEmbedded<Sale>(sales, ...ops)
  assert.is(embedded.length, sales.length)
  assert.equal(finalPerKey(embedded), expectedTotals)
  for (const parallelism of [1, 3]) {
    const engine = await runEngine<Sale>(sales, { parallelism }, ...ops)
    assert.is(engine.length, sales.length, `parallelism ${parallelism}`)
    assert.equal(finalPerKey(engine), expectedTotals, `parallelism ${parallelism}`)
    // per-key order is kept: running totals of one key only grow
    const seen = new Map<string, number>()
    for (const s of engine) {
      assert.ok(s.amount >= (seen.get(s.shop) ?? 0))
      seen.set(s.shop, s.amount)
    }
  }
})

test('keyBy routes every key to exactly one subtask, the owner of its key group', async () => {
  const env = StreamEnvironment.create({ parallelism: 4, logLevel: 'silent' })
  const seenBy = new Map<string, Set<number>>()
  env
    .fromCollection(sales)
    .pipe(
      keyBy((s: Sale) => s.shop),
      map((s: Sale) => s),
    )
    .sinkTo(
      new CallbackSink((s: Sale, subtask) => {
        if (!seenBy.has(s.shop)) seenBy.set(s.shop, new Set())
        seenBy.get(s.shop)!.add(subtask)
      }),
    )
  await env.execute()
  assert.is(seenBy.size, 37)
  for (const [shop, subtasks] of seenBy) {
    assert.is(subtasks.size, 1, `${shop} seen by ${[...subtasks]}`)
    const owner = [...subtasks][0]!
    assert.ok(KeyGroupRange.forSubtask(128, 4, owner).contains(keyGroupOf(shop, 128)))
  }
})

test('aggregate keeps an accumulator per key and emits its result', async () => {
  const average = {
    createAccumulator: () => ({ sum: 0, n: 0 }),
    add: (s: Sale, acc: { sum: number; n: number }) => ({ sum: acc.sum + s.amount, n: acc.n + 1 }),
    getResult: (acc: { sum: number; n: number }) => acc.sum / acc.n,
  }
  const input = [
    { shop: 'a', amount: 2 },
    { shop: 'b', amount: 10 },
    { shop: 'a', amount: 4 },
  ]
  assert.equal(
    await runEmbedded(
      input,
      keyBy((s: Sale) => s.shop),
      aggregate(average),
    ),
    [2, 10, 3],
  )
  assert.equal(
    await runEngine(
      input,
      { parallelism: 2 },
      keyBy((s: Sale) => s.shop),
      aggregate(average),
    ).then(sorted),
    [10, 2, 3].sort(),
  )
})

test('reduce and aggregate on an unkeyed stream fail when the job is built', () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  assert.throws(
    () => env.fromElements(1, 2).pipe(reduce((a: number, b: number) => a + b)),
    (e: unknown) => e instanceof ConfigError && /keyBy/.test(e.message),
  )
})

test('process with keyed ValueState counts per key across parallel subtasks', async () => {
  class Counter implements ProcessFunction<Sale, [string, number]> {
    private count!: ValueState<number>
    open(rt: RuntimeContext) {
      this.count = rt.getState(new ValueStateDescriptor<number>('count', { defaultValue: 0 }))
    }
    processElement(_sale: Sale, ctx: ProcessContext, out: Collector<[string, number]>) {
      const n = this.count.value()! + 1
      this.count.update(n)
      out.collect([String(ctx.currentKey), n])
    }
  }
  const counter = new Counter()
  for (const parallelism of [1, 4]) {
    const out = await runEngine<[string, number]>(
      sales,
      { parallelism },
      keyBy((s: Sale) => s.shop),
      process(counter),
    )
    const max = new Map<string, number>()
    for (const [k, n] of out) max.set(k, Math.max(max.get(k) ?? 0, n))
    for (const [shop] of expectedTotals) assert.is(max.get(shop), sales.filter((s) => s.shop === shop).length)
  }
})

test('keyBy gives a KeyedStream in the DataStream API', () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  assert.instance(
    env.fromElements(1).keyBy((x) => x),
    KeyedStream,
  )
})

test.run()

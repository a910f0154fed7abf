import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { from, lastValueFrom, mergeMap, timer, toArray } from 'rxjs'
import {
  StreamEnvironment,
  connect,
  keyBy,
  map,
  union,
  ValueStateDescriptor,
  type ValueState,
  type CoProcessFunction,
  type RuntimeContext,
  type ProcessContext,
  type Collector,
} from '../../lib/index.js'
import { ConfigError } from '../../lib/errors.js'
import { runEmbedded, sorted } from '../support/modes.js'
import { waitFor } from '../support/wait-for.js'

test('union merges streams of the job, in engine mode', async () => {
  const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent' })
  const a = env.fromCollection([1, 2, 3])
  const b = env.fromSequence(10, 12)
  const out = await a
    .pipe(
      union(b),
      map((x: number) => x * 2),
    )
    .executeAndCollect()
  assert.equal(sorted(out), sorted([2, 4, 6, 20, 22, 24]))
})

test('union merges Observables in embedded mode', async () => {
  const out = await runEmbedded<number>(
    [1, 2],
    union(from([3, 4])),
    map((x: number) => x + 1),
  )
  assert.equal(sorted(out), [2, 3, 4, 5])
})

type Order = { sku: string; qty: number }
type Price = { sku: string; price: number }

class Enrich implements CoProcessFunction<Order, Price, string> {
  private price!: ValueState<number>
  open(rt: RuntimeContext) {
    this.price = rt.getState(new ValueStateDescriptor<number>('price'))
  }
  processElement1(order: Order, _ctx: ProcessContext, out: Collector<string>) {
    const price = this.price.value()
    out.collect(`${order.sku}:${price === undefined ? 'unknown' : order.qty * price}`)
  }
  processElement2(p: Price) {
    this.price.update(p.price)
    pricesStored++
  }
}
const enrich = new Enrich()
/** Prices every subtask's copy of Enrich has stored (the copies share nothing else). */
let pricesStored = 0

test('connect shares keyed state between two keyed inputs (engine, parallelism 2)', async () => {
  const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent' })
  const prices = env.fromCollection<Price>([
    { sku: 'x', price: 3 },
    { sku: 'y', price: 5 },
  ])
  // Orders come from an async iterable that waits for both prices to be stored first.
  pricesStored = 0
  const orders = env.fromAsyncIterable(async function* () {
    await waitFor(() => pricesStored === 2, { description: 'both prices in keyed state' })
    yield { sku: 'x', qty: 2 }
    yield { sku: 'y', qty: 1 }
    yield { sku: 'z', qty: 1 }
  })
  const out = await orders
    .pipe(
      keyBy((o: Order) => o.sku),
      connect(prices, enrich, { key2: (p: Price) => p.sku }),
    )
    .executeAndCollect()
  assert.equal(sorted(out), ['x:6', 'y:5', 'z:unknown'])
})

test('connect works in embedded mode with an Observable as the second input', async () => {
  const prices$ = from<Price[]>([{ sku: 'x', price: 3 }])
  // orders come a little later than the price, so the price is known when they are enriched
  const orders$ = timer(5).pipe(
    mergeMap(() =>
      from<Order[]>([
        { sku: 'x', qty: 2 },
        { sku: 'q', qty: 1 },
      ]),
    ),
  )
  const out = await lastValueFrom(
    orders$.pipe(
      keyBy((o: Order) => o.sku),
      connect(prices$, new Enrich(), { key2: (p: Price) => p.sku }),
      toArray(),
    ),
  )
  assert.equal(sorted(out), sorted(['x:6', 'q:unknown']))
})

test('connect of a keyed and an unkeyed input fails when the job is built', () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  const prices = env.fromCollection<Price>([])
  assert.throws(
    () =>
      env.fromCollection<Order>([]).pipe(
        keyBy((o: Order) => o.sku),
        connect(prices, enrich),
      ),
    (e: unknown) => e instanceof ConfigError && /keyed/.test(e.message),
  )
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { asyncMap, sharedLimiter } from '../../../lib/operators/async-map.js'
import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import { runEmbedded, runEngine } from '../../support/modes.js'
import { sharedSlots } from '../../support/shared-flags.js'
import { waitFor } from '../../support/wait-for.js'
import { coordinatorOnly } from '../../support/worker-pass/pass-context.js'
import { FakeService, seeded } from './async-support.js'

const input = Array.from({ length: 500 }, (_, i) => i)

function randomLatency(seed: number, maxMs: number): () => number {
  const random = seeded(seed)
  return () => random() * maxMs
}

test('calls in flight never exceed capacity, in embedded and engine mode, ordered and not', async () => {
  for (const ordered of [true, false]) {
    const embedded = new FakeService((x: number) => x, randomLatency(1, 4))
    const inline = await coordinatorOnly(
      () => runEmbedded<number>(input, asyncMap(embedded.call, { capacity: 7, ordered })),
      [],
    )
    assert.equal(inline.length, input.length)
    assert.is(embedded.maxActive, 7, `embedded (ordered: ${ordered}): at most 7 at once, and 7 reached`)

    const engine = new FakeService((x: number) => x, randomLatency(2, 4))
    const name = `capacity-${ordered}`
    // batchSize 16 > capacity 7: each batch overflows the free slots, which must wait unstarted.
    const env = StreamEnvironment.create({ logLevel: 'silent', batchSize: 16, channelCredits: 2 })
    const out: number[] = []
    env
      .fromCollection(input)
      .pipe(asyncMap(engine.call, { capacity: 7, ordered, name, chaining: 'new-chain' }))
      .sinkTo(new CallbackSink((x: number) => void out.push(x)))
    const { metrics } = await env.executeAsync().result
    assert.is(out.length, input.length)
    assert.is(engine.maxActive, 7, `engine (ordered: ${ordered}): at most 7 at once, and 7 reached`)
    const m = metrics.details.find((d) => d.metrics.operator === name)?.metrics as
      | { maxInFlight: number; maxHeld: number }
      | undefined
    assert.is(m?.maxInFlight, 7)
    // (a worker replaying the test gets an empty result for this job, which it does not host: no throw)
    const held = m?.maxHeld ?? Number.NaN
    assert.ok(held <= 7 - 1 + 16, `records held ${held} ≤ capacity − 1 + one batch (22)`)
  }
})

test('a slow service backpressures the source: it runs ahead of completed calls by at most capacity + one batch + the channel credits', async () => {
  const capacity = 8
  const batchSize = 16
  const channelCredits = 2
  const total = 1_500
  const svc = new FakeService(
    (x: number) => x,
    () => 1,
  )
  const env = StreamEnvironment.create({ logLevel: 'silent', batchSize, channelCredits })
  const received: number[] = []
  // how far the source ran ahead of completed calls, measured by the source (in its thread) before each
  // record: only a record emitted makes it grow, so every peak is seen, on either executor
  const ahead = sharedSlots(1)
  function* numbers() {
    for (let i = 1; i <= total; i++) {
      const now = i - svc.completed
      for (let max = Atomics.load(ahead, 0); now > max; max = Atomics.load(ahead, 0))
        if (Atomics.compareExchange(ahead, 0, max, now) === max) break
      yield i
    }
  }
  // One record per poll, so the source stops as soon as its channel is out of credit.
  env
    .fromIterable(numbers, { uid: 'numbers' })
    .pipe(asyncMap(svc.call, { capacity, name: 'slow-service', chaining: 'new-chain' }))
    .sinkTo(new CallbackSink((v: number) => void received.push(v)))
  await env.executeAsync().result
  assert.is(received.length, total)
  // Held by the operator (capacity, plus an overflow of at most one batch), the async subtask's input
  // channel (credits × batch), and the source's open output batch.
  const bound = capacity + batchSize + channelCredits * batchSize + batchSize
  const maxAhead = Atomics.load(ahead, 0)
  assert.ok(maxAhead <= bound, `source ran ${maxAhead} records ahead of completed calls (bound ${bound})`)
  assert.ok(maxAhead > capacity, `the source did run ahead (${maxAhead}), so the bound was exercised`)
  assert.is(svc.maxActive, capacity)
})

test('a shared limiter caps the calls of every operator that uses it, across operators and jobs', async () => {
  const limiter = sharedLimiter(3)
  // calls running and the most at once, counted over every thread (on workers, the job runs in one)
  const [active, most] = [0, 1]
  const calls = sharedSlots(2)
  const tracked = (svc: FakeService<number, number>) => async (x: number, signal: AbortSignal) => {
    const now = Atomics.add(calls, active, 1) + 1
    for (let max = Atomics.load(calls, most); now > max; max = Atomics.load(calls, most))
      if (Atomics.compareExchange(calls, most, max, now) === max) break
    try {
      return await svc.call(x, signal)
    } finally {
      Atomics.sub(calls, active, 1)
    }
  }
  const a = new FakeService((x: number) => x + 1, randomLatency(3, 3))
  const b = new FakeService((x: number) => x * 2, randomLatency(4, 3))
  const c = new FakeService((x: number) => x, randomLatency(5, 3))
  const small = input.slice(0, 200)
  const [one, two] = await Promise.all([
    runEmbedded<number>(
      small,
      asyncMap(tracked(a), { capacity: 10, limiter }),
      asyncMap(tracked(b), { capacity: 10, limiter }),
    ),
    runEngine<number>(small, {}, asyncMap(tracked(c), { capacity: 10, limiter })),
  ])
  assert.equal(
    one,
    small.map((x) => (x + 1) * 2),
  )
  assert.equal(two, small)
  assert.is(Atomics.load(calls, most), 3, 'three calls at most over both operators and both jobs, and three reached')
  // on workers, a worker replaying the test ran the embedded operators too, until its job ended and its
  // thread was terminated mid-call: what it held is given back once the thread has exited
  await waitFor(() => limiter.activeCount + limiter.pendingCount === 0, { description: 'the limiter is free' })
})

test.run()

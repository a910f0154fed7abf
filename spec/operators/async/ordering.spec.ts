import { from, lastValueFrom, toArray } from 'rxjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { assignTimestampsAndWatermarks } from '../../../lib/operators/assign-timestamps.js'
import { asyncMap, orderedWait, unorderedWait } from '../../../lib/operators/async-map.js'
import { resolveAsyncOptions } from '../../../lib/operators/async/async-options.js'
import { AsyncWaitOperator } from '../../../lib/operators/async/async-wait-operator.js'
import { WatermarkStrategy } from '../../../lib/time/watermark-strategy.js'
import { runEngine, sorted } from '../../support/modes.js'
import { OperatorHarness } from '../../windows/operator-harness.js'
import { FakeService, probe, type Seen, seeded, segmentsOf } from './async-support.js'

interface Ev {
  id: number
  t: number
}

const events: Ev[] = Array.from({ length: 200 }, (_, i) => ({ id: i, t: i * 10 }))
const EVERY = 10

/** Punctuated: a watermark at the timestamp of every tenth record, right after it. */
const everyTenth = WatermarkStrategy.forGenerator<Ev>(() => {
  let n = 0
  return {
    onEvent(_e, timestamp, out) {
      if (++n % EVERY === 0) out.emitWatermark(timestamp)
    },
    onPeriodicEmit() {},
  }
}).withTimestampAssigner((e) => e.t)

function randomLatency(seed: number): (e: Ev) => number {
  const random = seeded(seed)
  return () => random() * 8
}

/** Flushes promise callbacks and a turn of timers. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

/** A promise the test resolves by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

test('ordered mode emits in input order whatever the latencies, with the watermarks where they were', async () => {
  const svc = new FakeService((e: Ev) => e, randomLatency(1))
  const seen: Seen<Ev>[] = []
  await lastValueFrom(
    from(events).pipe(
      assignTimestampsAndWatermarks(everyTenth),
      orderedWait(svc.call, { capacity: 20 }),
      probe(seen),
      toArray(),
    ),
  )
  assert.equal(
    seen.filter((s) => s.kind === 'record').map((s) => (s as { value: Ev }).value.id),
    events.map((e) => e.id),
  )
  const expectedSegments = Array.from({ length: events.length / EVERY }, (_, k) =>
    events.slice(k * EVERY, (k + 1) * EVERY),
  )
  assert.equal(segmentsOf(seen), expectedSegments, 'every watermark sits after the same records as in the input')
  for (const s of seen) if (s.kind === 'record') assert.is(s.timestamp, s.value.t, 'the record timestamp is kept')
})

test('unordered mode reorders records between two watermarks but never across one', async () => {
  const svc = new FakeService((e: Ev) => e, randomLatency(2))
  const seen: Seen<Ev>[] = []
  const out = await lastValueFrom(
    from(events).pipe(
      assignTimestampsAndWatermarks(everyTenth),
      unorderedWait(svc.call, { capacity: 50 }),
      probe(seen),
      toArray(),
    ),
  )
  assert.equal(sorted(out.map((e) => e.id)), sorted(events.map((e) => e.id)), 'a permutation of the input')
  const watermarks = seen.flatMap((s) => (s.kind === 'watermark' ? [s.watermark] : []))
  assert.ok(watermarks.length >= events.length / EVERY - 1, `watermarks come through (${watermarks.length})`)
  let before = 0
  for (let i = 0; i < seen.length; i++) {
    const s = seen[i]!
    if (s.kind === 'record') assert.is(s.timestamp, s.value.t, 'the record timestamp is kept')
    if (s.kind !== 'watermark') continue
    const emittedBefore = seen.slice(0, i).flatMap((x) => (x.kind === 'record' ? [x.value.id] : []))
    const inputBefore = events.filter((e) => e.t <= s.watermark).map((e) => e.id)
    assert.equal(
      sorted(emittedBefore),
      sorted(inputBefore),
      `exactly the records before watermark ${s.watermark} come out before it`,
    )
    assert.ok(s.watermark > before, 'watermarks stay in order')
    before = s.watermark
  }
  const reordered = segmentsOf(seen).filter((segment) =>
    segment.some((e, i) => i > 0 && e.id < segment[i - 1]!.id),
  ).length
  assert.ok(reordered > 0, `unordered mode did reorder within segments (${reordered} segments reordered)`)
})

test('unordered: a record that finishes early waits for the records and the watermark before it', async () => {
  const pending = new Map<string, ReturnType<typeof deferred<string>>>()
  const fn = (v: string) => {
    const d = deferred<string>()
    pending.set(v, d)
    return d.promise
  }
  const h = OperatorHarness.unkeyed(
    new AsyncWaitOperator<string, string>(
      fn,
      resolveAsyncOptions<string, string>('asyncMap', { ordered: false }).resolved,
    ),
  )
  h.record('a', 1)
  h.record('b', 2)
  h.watermark(5)
  h.record('c', 6)
  pending.get('c')!.resolve('C')
  await settle()
  assert.equal(h.output.emitted, [], 'c waits behind watermark 5')
  pending.get('b')!.resolve('B')
  await settle()
  assert.equal(h.output.emitted, [{ kind: 'record', value: 'B', timestamp: 2 }], 'b overtakes a within its segment')
  pending.get('a')!.resolve('A')
  await settle()
  assert.equal(h.output.emitted.slice(1), [
    { kind: 'record', value: 'A', timestamp: 1 },
    { kind: 'watermark', watermark: 5 },
    { kind: 'record', value: 'C', timestamp: 6 },
  ])
  h.watermark(9)
  assert.equal(h.output.watermarks(), [5, 9], 'with nothing held a watermark goes straight through')
})

test('ordered: a finished record waits for the head, and watermarks keep their place', async () => {
  const pending = new Map<number, ReturnType<typeof deferred<number>>>()
  const fn = (v: number) => {
    const d = deferred<number>()
    pending.set(v, d)
    return d.promise
  }
  const h = OperatorHarness.unkeyed(
    new AsyncWaitOperator<number, number>(fn, resolveAsyncOptions<number, number>('asyncMap', {}).resolved),
  )
  h.record(1, 10)
  h.watermark(10)
  h.watermark(11)
  h.record(2, 20)
  pending.get(2)!.resolve(200)
  await settle()
  assert.equal(h.output.emitted, [])
  pending.get(1)!.resolve(100)
  await settle()
  assert.equal(
    h.output.emitted,
    [
      { kind: 'record', value: 100, timestamp: 10 },
      { kind: 'watermark', watermark: 11 },
      { kind: 'record', value: 200, timestamp: 20 },
    ],
    'the two queued watermarks merge into the newer one',
  )
})

test('engine mode keeps input order (ordered) and loses nothing (unordered) at parallelism 2', async () => {
  const input = Array.from({ length: 1_000 }, (_, i) => i)
  const random = seeded(3)
  const call = async (x: number) => {
    await new Promise((r) => setTimeout(r, random() * 3))
    return x * 2
  }
  assert.equal(
    await runEngine<number>(input, { batchSize: 32 }, asyncMap(call, { capacity: 25 })),
    input.map((x) => x * 2),
  )
  assert.equal(
    sorted(
      await runEngine<number>(
        input,
        { parallelism: 2, batchSize: 32 },
        asyncMap(call, { capacity: 25, ordered: false }),
      ),
    ),
    sorted(input.map((x) => x * 2)),
  )
})

test.run()

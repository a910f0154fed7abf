import { from, lastValueFrom, toArray } from 'rxjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import type { CommitOutcome } from '../../../lib/checkpoint/two-phase-commit-sink.js'
import { StateError } from '../../../lib/errors.js'
import { asyncMap, asyncMetrics } from '../../../lib/operators/async-map.js'
import { resolveAsyncOptions } from '../../../lib/operators/async/async-options.js'
import { AsyncWaitOperator } from '../../../lib/operators/async/async-wait-operator.js'
import { readInFlight } from '../../../lib/operators/async/in-flight-state.js'
import { map } from '../../../lib/operators/map.js'
import type { OperatorStateEntries } from '../../../lib/runtime/stream-operator.js'
import { Ledger, LedgerSink } from '../../support/ledger-sink.js'
import { sharedSlots } from '../../support/shared-flags.js'
import { SharedList } from '../../support/shared-list.js'
import { OperatorHarness } from '../../windows/operator-harness.js'
import { FakeService, probe, type Seen, seeded } from './async-support.js'

const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * A ledger sink that also writes how many records its ledger committed into memory every thread shares:
 * the commits run where the ledger is (the coordinator), the map that fails reads the count in a worker.
 */
class CountingLedgerSink extends LedgerSink<number> {
  constructor(
    ledger: Ledger<number>,
    private readonly committedCount: Int32Array,
  ) {
    super(ledger)
  }

  protected override commit(txn: { id: string; records: number[] }): CommitOutcome {
    const outcome = super.commit(txn)
    Atomics.store(this.committedCount, 0, this.ledger.committed.length)
    return outcome
  }
}

/**
 * source | asyncMap (slow service, capacity 32) → map that throws once, when a third of the output is
 * committed (so checkpoints have completed) and requests are in flight → exactly-once ledger. The source is a subtask of its own,
 * held back by credits, so checkpoints catch it mid-stream with requests in flight downstream.
 */
async function runWithInjectedFailure(name: string, parallelism: number, ordered: boolean, unaligned = false) {
  const total = 3_000
  const random = seeded(parallelism)
  const svc = new FakeService(
    (x: number) => x * 2,
    () => 1 + random() * 2,
  )
  const ledger = new Ledger<number>()
  // [records committed, requests in flight in the failing map's thread when it threw (-1: not yet)]
  const shared = sharedSlots(2, [0, -1])
  const env = StreamEnvironment.create({
    parallelism,
    logLevel: 'silent',
    batchSize: 64,
    checkpointing: { intervalMs: 10, unaligned },
    restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
  })
  env
    .fromSequence(1, total, { uid: 'numbers' })
    .pipe(
      asyncMap(svc.call, { capacity: 32, ordered, uid: 'enrich', name, chaining: 'new-chain' }),
      map(
        (x: number) => {
          if (Atomics.load(shared, 1) < 0 && Atomics.load(shared, 0) >= total / 3) {
            // the async subtasks of this thread (the map is chained to one of them)
            const inFlight = asyncMetrics(name).reduce((n, m) => n + m.inFlight, 0)
            if (Atomics.compareExchange(shared, 1, -1, inFlight) === -1) throw new Error('injected')
          }
          return x
        },
        { uid: 'check' },
      ),
    )
    .sinkTo(new CountingLedgerSink(ledger, shared), { uid: 'ledger' })
  const result = await env.executeAsync().result
  const restored = (result.metrics?.details ?? [])
    .filter((d) => d.metrics.operator === name)
    .reduce((n, d) => n + ((d.metrics as { restored?: number }).restored ?? 0), 0)
  return {
    ledger,
    result,
    inFlightAtFailure: Atomics.load(shared, 1),
    restored,
    expected: Array.from({ length: total }, (_, i) => (i + 1) * 2),
  }
}

test('a failure while requests are in flight restores them from the checkpoint: each result committed exactly once, in order', async () => {
  const { ledger, result, inFlightAtFailure, restored, expected } = await runWithInjectedFailure(
    'enrich-ordered',
    1,
    true,
  )
  assert.ok(inFlightAtFailure > 0, `requests were in flight when the failure hit (${inFlightAtFailure})`)
  assert.is(result.metrics.restarts, 1)
  assert.equal(ledger.committed, expected, 'exactly once, and in input order')
  assert.ok(restored > 0, `the restored checkpoint held requests in flight, issued again (${restored})`)
})

test('the same at parallelism 2 in unordered mode: exactly once', async () => {
  const { ledger, result, inFlightAtFailure, restored, expected } = await runWithInjectedFailure(
    'enrich-unordered',
    2,
    false,
  )
  assert.ok(inFlightAtFailure > 0, `requests were in flight when the failure hit (${inFlightAtFailure})`)
  assert.is(result.metrics.restarts, 1)
  assert.is(ledger.committed.length, expected.length)
  assert.equal(
    [...ledger.committed].sort((a, b) => a - b),
    expected,
  )
  assert.ok(restored > 0, `requests issued again after restore (${restored})`)
})

test('with unaligned checkpoints too: requests in flight and records overtaken in the channel both come back, in order', async () => {
  const { ledger, result, inFlightAtFailure, restored, expected } = await runWithInjectedFailure(
    'enrich-unaligned',
    1,
    true,
    true,
  )
  assert.ok(inFlightAtFailure > 0, `requests were in flight when the failure hit (${inFlightAtFailure})`)
  assert.is(result.metrics.restarts, 1)
  assert.equal(ledger.committed, expected, 'exactly once, and in input order')
  assert.ok(restored > 0, `requests issued again after restore (${restored})`)
})

test('a snapshot holds the inputs of every held request in order; on restore they go out again before new input', async () => {
  const options = resolveAsyncOptions<unknown, string>('asyncMap', {}).resolved
  const hang = () => new Promise<string>(() => {})
  const first = OperatorHarness.unkeyed(new AsyncWaitOperator<unknown, string>(hang, options))
  const inputs: [unknown, number | undefined][] = [
    [1, 10],
    ['two', undefined],
    [{ three: new Map([['x', 3n]]) }, 30],
  ]
  for (const [value, ts] of inputs) first.record(value, ts)
  const entries = first.operator.snapshotOperatorState(1) as OperatorStateEntries
  assert.is(entries.split!.length, 1, 'one entry per subtask, so the order survives rescaling')
  const stored = JSON.parse(JSON.stringify(entries.split))
  assert.equal(
    readInFlight(stored[0]).map((i) => [i.value, i.timestamp]),
    inputs,
  )

  const calls: unknown[] = []
  const echo = async (v: unknown) => {
    calls.push(v)
    return `got ${typeof v}`
  }
  const second = OperatorHarness.keyed(new AsyncWaitOperator<unknown, string>(echo, options), undefined, {
    keyed: [],
    split: stored,
    union: [],
  })
  second.operator.processRecord('new', 40)
  await settle()
  assert.equal(calls, [1, 'two', { three: new Map([['x', 3n]]) }, 'new'], 'restored first, in their order')
  assert.equal(second.output.emitted, [
    { kind: 'record', value: 'got number', timestamp: 10 },
    { kind: 'record', value: 'got string', timestamp: undefined },
    { kind: 'record', value: 'got object', timestamp: 30 },
    { kind: 'record', value: 'got string', timestamp: 40 },
  ])
  assert.is((second.operator as AsyncWaitOperator<unknown, string>).metrics.restored, 3)
})

test('state of another format or version is refused with a clear error', () => {
  assert.throws(
    () => readInFlight({ serializer: 'sluice.async-in-flight', version: 9, inputs: [] }),
    (e: unknown) => e instanceof StateError && e.code === 'ERR_SERIALIZER_VERSION',
  )
  assert.throws(
    () => readInFlight({ pending: [] }),
    (e: unknown) => e instanceof StateError && e.code === 'ERR_STATE_INCOMPATIBLE',
  )
})

test('end of input waits for every request in flight: downstream hears of the end after the last result', async () => {
  const input = Array.from({ length: 120 }, (_, i) => i)
  const slow = () =>
    new FakeService(
      (x: number) => x,
      () => 20,
    )
  for (const ordered of [true, false]) {
    // the probe runs in a worker on the worker executor: what it saw is in memory the threads share
    const seenEngine = new SharedList<Seen<number>>()
    const env = StreamEnvironment.create({ logLevel: 'silent' })
    const out = await env
      .fromCollection(input)
      .pipe(asyncMap(slow().call, { capacity: 50, ordered }), probe(seenEngine))
      .executeAndCollect()
    assert.is(out.length, input.length, `engine (ordered: ${ordered}): every result, none lost at the end`)
    assert.equal(
      seenEngine
        .values()
        .filter((s) => s.kind !== 'watermark')
        .at(-1),
      { kind: 'end' },
      'end of input after the last record',
    )

    const seenEmbedded: Seen<number>[] = []
    const embedded = await lastValueFrom(
      from(input).pipe(asyncMap(slow().call, { capacity: 50, ordered }), probe(seenEmbedded), toArray()),
    )
    assert.is(embedded.length, input.length, `embedded (ordered: ${ordered}): every result`)
    assert.equal(seenEmbedded.filter((s) => s.kind !== 'watermark').at(-1), { kind: 'end' })
  }
})

test.run()

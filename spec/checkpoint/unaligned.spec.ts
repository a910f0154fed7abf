import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment, keyBy, map, process, MemoryStorage } from '../../lib/index.js'
import { StateError } from '../../lib/errors.js'
import { Ledger, LedgerSink } from '../support/ledger-sink.js'
import { RunningCount } from '../support/running-count.js'
import { tempDir } from '../support/temp-dir.js'
import { waitFor } from '../support/wait-for.js'
import { sharedRecord } from '../support/shared-flags.js'
import { coordinatorStep } from '../support/worker-pass/pass-context.js'

/** A ledger sink that takes a while every few records: the job runs under backpressure. */
class SlowLedgerSink<T> extends LedgerSink<T> {
  private written = 0
  protected override write(txn: { id: string; records: T[] }, value: T): void {
    super.write(txn, value)
    if (++this.written % 50 === 0) {
      const end = performance.now() + 1
      while (performance.now() < end);
    }
  }
}

function build(env: StreamEnvironment, ledger: Ledger<string>, failAt: number | undefined) {
  const fault = sharedRecord({ failed: false })
  env
    .fromSequence(1, 6_000, { uid: 'numbers' })
    .pipe(
      map(
        (x: number) => {
          if (failAt !== undefined && x === failAt && !fault.failed) {
            fault.failed = true
            throw new Error('injected')
          }
          return x
        },
        { uid: 'faulty' },
      ),
      keyBy((x: number) => x % 7),
      process(new RunningCount(), { uid: 'count' }),
    )
    .sinkTo(new SlowLedgerSink(ledger), { uid: 'ledger' })
  return () => fault.failed
}

const expected: string[] = []
for (let k = 0; k < 7; k++)
  for (let n = 1; n <= Math.floor(6_000 / 7) + (k !== 0 && k <= 6_000 % 7 ? 1 : 0); n++) expected.push(`${k}:${n}`)

test('unaligned checkpoints complete under backpressure without alignment, and a restore replays the records in flight exactly once', async () => {
  const ledger = new Ledger<string>()
  const env = StreamEnvironment.create({
    parallelism: 2,
    batchSize: 32,
    channelCredits: 2,
    logLevel: 'silent',
    checkpointing: { intervalMs: 10, unaligned: true },
    restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
  })
  const failed = build(env, ledger, 4_000)
  const job = env.executeAsync()
  const result = await job.result
  assert.ok(failed(), 'the failure was injected')
  assert.is(result.metrics.restarts, 1)
  const completed = job.checkpoints().filter((c) => c.status === 'completed')
  assert.ok(completed.length >= 2, `checkpoints completed: ${completed.length}`)
  for (const c of completed) assert.is(c.alignmentMs, 0)
  assert.is(ledger.committed.length, expected.length)
  assert.equal([...ledger.committed].sort(), [...expected].sort())
})

test('an unaligned checkpoint cannot be restored at another parallelism', async () => {
  const storage = new MemoryStorage()
  const ledger = new Ledger<string>()
  const first = StreamEnvironment.create({
    parallelism: 2,
    batchSize: 32,
    channelCredits: 2,
    logLevel: 'silent',
    checkpointing: { intervalMs: 5, unaligned: true, storage },
  })
  build(first, ledger, undefined)
  const job = first.executeAsync()
  // stop while records are in flight (not at the end, where the final checkpoint has nothing in flight)
  await waitFor(() => job.checkpoints().filter((c) => c.status === 'completed').length >= 2, { timeoutMs: 10_000 })
  await job.cancel()
  // the first job's checkpoints are in the coordinator's storage (on workers too: they post their state there)
  const hasInFlight = await coordinatorStep(async () => {
    const latest = await storage.latest()
    assert.ok(latest !== undefined)
    const states = await Promise.all(
      Object.values(latest!.operators).flatMap((op) =>
        op.subtasks.filter((h) => h !== null).map((h) => storage.readState(h!)),
      ),
    )
    return states.some((s) => s.channels !== undefined)
  })
  assert.ok(hasInFlight, 'the checkpoint holds channel state')
  const second = StreamEnvironment.create({
    parallelism: 3,
    logLevel: 'silent',
    checkpointing: { intervalMs: 5, unaligned: true, storage },
  })
  build(second, new Ledger<string>(), undefined)
  await second.execute().then(
    () => assert.unreachable('restore at parallelism 3 should fail'),
    (e) => {
      assert.instance(e, StateError)
      assert.match((e as Error).message, /unaligned/)
    },
  )
})

test('savepoints stay aligned in unaligned mode, so they restore at another parallelism', async () => {
  const dir = tempDir('sluice-unaligned-sp-')
  try {
    const ledger = new Ledger<string>()
    const first = StreamEnvironment.create({
      parallelism: 2,
      batchSize: 32,
      channelCredits: 2,
      logLevel: 'silent',
      checkpointing: { intervalMs: 10, unaligned: true },
    })
    build(first, ledger, undefined)
    const job = first.executeAsync()
    await job.running
    const savepoint = await job.stopWithSavepoint(dir.path)
    const second = StreamEnvironment.create({
      parallelism: 3,
      logLevel: 'silent',
      restoreFrom: savepoint,
      checkpointing: { intervalMs: 10, unaligned: true },
    })
    build(second, ledger, undefined)
    await second.execute()
    assert.equal([...ledger.committed].sort(), [...expected].sort())
  } finally {
    dir.remove()
  }
})

test.run()

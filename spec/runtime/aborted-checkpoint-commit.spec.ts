import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { MemoryStorage } from '../../lib/checkpoint/memory-storage.js'
import type { CommitOutcome } from '../../lib/checkpoint/two-phase-commit-sink.js'
import type { SinkWriter, SinkWriterContext } from '../../lib/runtime/sink.js'
import { StreamOperator } from '../../lib/runtime/stream-operator.js'
import { systemProcessingTime } from '../../lib/time/processing-time.js'
import { InjectedFault } from '../support/fault-injection.js'
import { GatedSequenceSource, SequenceGate } from '../support/fault-jobs.js'
import { FaultyStorage } from '../support/fault-operators.js'
import { Ledger, LedgerSink } from '../support/ledger-sink.js'
import { sharedRecord } from '../support/shared-flags.js'
import { SharedGate } from '../support/shared-gate.js'
import { tempDir } from '../support/temp-dir.js'
import { settlesWithin, waitFor } from '../support/wait-for.js'

/**
 * A checkpoint aborted while a sink's pre-commit for it still runs (a tolerated storage failure, a
 * timeout), and the next barrier reaching the sink before that pre-commit settled: the transaction cut
 * for the aborted checkpoint must be in the next checkpoint's state and be committed with it (Flink's
 * committer keeps the committables of a checkpoint that did not complete). It was lost: the next
 * snapshot's state left it out, so a restore from that checkpoint never committed it.
 */

type Txn = { id: string; records: string[] }

/**
 * A ledger sink whose pre-commit of subtask 0's first transaction waits until that subtask's writer was
 * asked for its next snapshot (plus one macrotask, so that a writer that does not wait for it has
 * settled that snapshot by then); `commitsFail` makes every commit of a live transaction throw (a
 * failure between pre-commit and commit), so only a restore commits. The job checkpoints only when the
 * test asks, so the writer's first snapshot is the one that cut that transaction, and the next is its
 * second. On the worker executor the writer snapshots in a worker while its pre-commits and commits run
 * on the coordinator's copy of the sink (it is thread-bridged), and a pre-commit may reach the
 * coordinator after the writer's next snapshot began: what the two sides tell each other is counted in
 * memory every thread of the test shares.
 */
class SlowFirstPreCommit extends LedgerSink<string> {
  /** Read by the commits, which run where the ledger is (the coordinator). */
  commitsFail = false
  /**
   * `snapshots`: subtask 0's writer was asked for so many; `overlapped`: for its second before the first
   * pre-commit settled; `gated`, `firstSettled`: the first pre-commit waited, and went on.
   */
  readonly flags = sharedRecord({ snapshots: 0, overlapped: false, gated: false, firstSettled: false })
  private readonly next = new SharedGate()

  constructor(ledger: Ledger<string>) {
    super(ledger)
  }

  override createWriter(context: SinkWriterContext, restored?: readonly unknown[]): SinkWriter<string> {
    const writer = super.createWriter(context, restored)
    if (context.subtask !== 0) return writer
    const snapshotState = writer.snapshotState!.bind(writer)
    writer.snapshotState = (checkpointId) => {
      if (++this.flags.snapshots >= 2 && !this.flags.firstSettled) {
        this.flags.overlapped = true
        setImmediate(() => this.next.open())
      }
      return snapshotState(checkpointId)
    }
    return writer
  }

  protected override async preCommit(txn: Txn): Promise<void> {
    if (!this.flags.gated && txn.records.length > 0 && txn.records[0]!.startsWith('0:')) {
      this.flags.gated = true
      await this.next.opened()
      this.flags.firstSettled = true
    }
    super.preCommit(txn)
  }

  protected override commit(txn: Txn & { restored?: boolean }): CommitOutcome {
    if (this.commitsFail && txn.restored !== true) throw new InjectedFault(`commit of ${txn.id}`)
    return super.commit(txn)
  }

  protected override fromState(state: unknown): Txn {
    return Object.assign(super.fromState(state), { restored: true })
  }
}

test('a transaction whose checkpoint failed (tolerated) is committed with the next checkpoint, though its pre-commit outlasted the next barrier', async () => {
  const records = 2_000
  const ledger = new Ledger<string>()
  const sink = new SlowFirstPreCommit(ledger)
  sink.commitsFail = true
  const gate = new SequenceGate(0.5)
  const dir = tempDir('sluice-aborted-checkpoint-')
  // Checkpoints only when the test asks (savepoints); every state write of checkpoint 1 fails.
  const env = StreamEnvironment.create({
    parallelism: 2,
    logLevel: 'silent',
    checkpointing: {
      intervalMs: 3_600_000,
      tolerableFailures: 1,
      storage: new FaultyStorage(new MemoryStorage(), undefined, (id) => id === 1),
    },
    restartStrategy: { kind: 'fixed-delay', attempts: 2, delayMs: 0 },
  })
  // The sink is chained to the source: each barrier reaches it as a trigger, not through an input gate.
  env
    .fromSource(new GatedSequenceSource(1, records, gate), { uid: 'numbers' })
    .transform('tag', () => new TagBySubtask(), { uid: 'tag' })
    .sinkTo(sink, { uid: 'ledger' })
  const job = env.executeAsync('aborted checkpoint, slow pre-commit')
  try {
    await waitFor(() => gate.emitted === records / 2 && gate.waiting === 2, { timeoutMs: 10_000 })
    // Checkpoint 1: subtask 0's pre-commit waits, subtask 1's state cannot be stored: aborted, tolerated.
    const first = await job.triggerSavepoint(dir.file('sp1')).then(
      () => 'completed',
      (error: { code?: string }) => error.code,
    )
    assert.is(first, 'ERR_CHECKPOINT_ABORTED', 'checkpoint 1 failed')
    // Checkpoint 2 reaches subtask 0's sink while its pre-commit for checkpoint 1 still runs; it
    // completes, and its commit fails: the restart restores checkpoint 2, and only the restore commits.
    await job.triggerSavepoint(dir.file('sp2'))
    assert.ok(sink.flags.overlapped, "checkpoint 2's snapshot began before the pre-commit of checkpoint 1 settled")
    await waitFor(() => job.metrics().restarts === 1, { timeoutMs: 10_000, description: 'the job restarted' })
    sink.commitsFail = false
    gate.open(1)
    const result = await settlesWithin(job.result, { timeoutMs: 20_000 })
    assert.is(result.metrics.restarts, 1)
    const values = ledger.committed.map((line) => Number(line.slice(line.indexOf(':') + 1))).sort((a, b) => a - b)
    assert.equal(
      values,
      Array.from({ length: records }, (_, i) => i + 1),
      'every record committed exactly once',
    )
  } finally {
    await job.cancel()
    dir.remove()
  }
})

test('the writer: a snapshot begun before the previous pre-commit settled names that transaction, and its completion commits both in order', async () => {
  const ledger = new Ledger<string>()
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  let preCommits = 0
  const sink = new (class extends LedgerSink<string> {
    protected override async preCommit(txn: Txn): Promise<void> {
      if (++preCommits === 1) await released
      super.preCommit(txn)
    }
  })(ledger)
  const writer = sink.createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
  writer.write('a', undefined)
  const first = writer.snapshotState!(1)
  writer.write('b', undefined)
  // checkpoint 1 is aborted while its pre-commit runs; checkpoint 2's barrier comes
  const second = Promise.resolve(writer.snapshotState!(2))
  writer.write('c', undefined)
  let secondSettled = false
  void second.then(() => (secondSettled = true))
  await new Promise((resolve) => setImmediate(resolve))
  assert.not.ok(secondSettled, "checkpoint 2's state waits for the pre-commit of checkpoint 1")
  release()
  await first
  const state = (await second) as Array<{ pending?: { checkpointId: number }; open?: unknown }>
  assert.equal(
    state.map((s) => (s.pending === undefined ? 'open' : `pending ${s.pending.checkpointId}`)),
    ['pending 1', 'pending 2', 'open'],
  )
  await writer.notifyCheckpointComplete!(2)
  assert.equal(ledger.committed, ['a', 'b'], 'checkpoint 2 committed the transactions of checkpoints 1 and 2, in order')
  assert.is(ledger.counts.preCommits, 2)
  await writer.close()
})

/** Prefixes each number with its subtask (`<subtask>:<x>`), so the sink knows whose transaction it pre-commits. */
class TagBySubtask extends StreamOperator<number, string> {
  processRecord(value: number, timestamp: number | undefined): void {
    this.output.collect(`${this.subtask}:${value}`, timestamp)
  }
}

test.run()

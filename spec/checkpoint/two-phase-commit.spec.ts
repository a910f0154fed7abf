import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import type { CommitOutcome } from '../../lib/checkpoint/two-phase-commit-sink.js'
import type { SinkWriterContext } from '../../lib/runtime/sink.js'
import { systemProcessingTime } from '../../lib/time/processing-time.js'
import { Deferred } from '../../lib/util/deferred.js'
import { type FaultPlan, FaultLog } from '../support/fault-injection.js'
import { checkCounts } from '../support/fault-checks.js'
import { buildCountJob, GatedSequenceSource, runSchedule, SequenceGate } from '../support/fault-jobs.js'
import { Ledger, LedgerSink } from '../support/ledger-sink.js'
import { tempDir } from '../support/temp-dir.js'
import { settlesWithin, waitFor } from '../support/wait-for.js'

function plan(changes: Partial<FaultPlan>): FaultPlan {
  return {
    seed: 0,
    parallelism: 2,
    sinkParallelism: 2,
    mode: 'exactly-once',
    intervalMs: 5,
    batchSize: 32,
    channelCredits: 4,
    records: 6000,
    keys: 7,
    busyEvery: 60,
    busyMs: 1,
    tolerableFailures: 0,
    restartDelayMs: 0,
    faults: [],
    ...changes,
  }
}

test('a commit that fails after its pre-commit is committed by the restore, once', async () => {
  for (const afterPreCommits of [1, 3]) {
    const p = plan({ faults: [{ kind: 'commit-fails', afterPreCommits }] })
    const log = new FaultLog(p)
    const { ledger, restarts } = await runSchedule(p, log)
    assert.ok(log.fired.size === 1 && log.commitVictim !== undefined, 'the commit failed')
    assert.ok(restarts >= 1, 'the failed commit failed the job over')
    assert.ok(
      ledger.committedIds.has(log.commitVictim!),
      'the restore committed the transaction whose commit had failed',
    )
    assert.equal(checkCounts(ledger.committed, p.records, p.keys, 'exactly-once').problems, [], 'each record once')
  }
})

/** A ledger sink whose commits on completion notices always say 'retry-later': everything waits for a restore. */
class NeverCommits<T> extends LedgerSink<T> {
  protected override commit(): CommitOutcome {
    return 'retry-later'
  }
}

/** A ledger sink whose first recommit of a restored transaction throws. */
class RecommitFailsOnce<T> extends LedgerSink<T> {
  thrown = 0
  protected override fromState(state: unknown) {
    return Object.assign(super.fromState(state), { restored: true })
  }
  protected override commit(txn: { id: string; records: T[]; restored?: boolean }): CommitOutcome {
    if (txn.restored === true && this.thrown++ === 0)
      throw new Error('injected fault: the recommit of a restored transaction fails')
    return super.commit(txn)
  }
}

// Regression (an engine bug the fault injection found, now fixed): TwoPhaseCommitWriter starts `recover()` in its constructor and keeps the promise only for
// `ready()`, which the subtask asks after it processed a batch (Subtask.checkPauses). A restore whose
// recommit fails before any record arrives leaves a rejected promise nobody handles: Node reports an
// unhandled rejection (which ends a process run with default settings), the subtask does not fail,
// the job goes on and never commits that transaction. Fix: Subtask.open() calls checkPauses() right
// after chain.open(), so a restoring sink's recovery holds the input from the start and its rejection
// fails the subtask through later(); see the report.
test('a recommit that fails during a restore fails the subtask (no unhandled rejection), and the retry commits it', async () => {
  const unhandled: unknown[] = []
  const onUnhandled = (error: unknown): void => void unhandled.push(error)
  process.on('unhandledRejection', onUnhandled)
  const dir = tempDir('sluice-recommit-')
  try {
    const records = 4000
    const p = plan({ parallelism: 1, sinkParallelism: 1, records, keys: 5, busyEvery: 1_000_000 })
    const gate = new SequenceGate(0.5)
    const ledger = new Ledger<string>()
    const first = StreamEnvironment.create({ batchSize: 64, logLevel: 'silent', checkpointing: { intervalMs: 10 } })
    buildCountJob(first, p, undefined, new NeverCommits(ledger), new GatedSequenceSource(1, records, gate))
    const job1 = first.executeAsync('first half, commits left to the restore')
    await waitFor(() => gate.emitted === records / 2, { timeoutMs: 5000 })
    const savepoint = await job1.triggerSavepoint(dir.file('sp'))
    await job1.cancel()
    assert.is(ledger.committed.length, 0, 'nothing committed yet: the savepoint holds pre-committed transactions')

    // The restored job reads nothing at first (the gate stays shut for a while): the recommit fails before any record.
    const sink = new RecommitFailsOnce<string>(ledger)
    const second = StreamEnvironment.create({
      batchSize: 64,
      logLevel: 'silent',
      restoreFrom: savepoint,
      checkpointing: { intervalMs: 10 },
      restartStrategy: { kind: 'fixed-delay', attempts: 2, delayMs: 0 },
    })
    buildCountJob(second, p, undefined, sink, new GatedSequenceSource(1, records, gate))
    const job2 = second.executeAsync('restored, first recommit fails')
    setTimeout(() => gate.open(1), 100)
    const result = await settlesWithin(job2.result, { timeoutMs: 10_000 })
    assert.is(sink.thrown >= 1, true, 'the recommit failed once')
    assert.equal(
      checkCounts(ledger.committed, records, 5, 'exactly-once').problems,
      [],
      'the retry committed the first half',
    )
    assert.ok(result.metrics.restarts >= 1, 'the failed recommit failed the job over')
    assert.equal(unhandled.map(String), [], 'no unhandled rejection')
  } finally {
    process.off('unhandledRejection', onUnhandled)
    dir.remove()
  }
})

/** A ledger sink whose commits wait while `held` is unsettled: a completion notice's commit stays in flight. */
class HeldCommits<T> extends LedgerSink<T> {
  held: Deferred | undefined
  readonly commitStarted = new Deferred()
  private heldSteps: LedgerSink<T>['steps'] | undefined

  override get steps(): LedgerSink<T>['steps'] {
    const steps = super.steps
    this.heldSteps ??= {
      ...steps,
      commit: async (txn) => {
        this.commitStarted.resolve()
        await this.held?.promise
        return steps.commit(txn)
      },
    }
    return this.heldSteps
  }
}

const context: SinkWriterContext = { subtask: 0, parallelism: 1, processingTime: systemProcessingTime }
const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i)
const pendingIn = (state: unknown[]): number => state.filter((entry) => 'pending' in (entry as object)).length

test("a checkpoint's state carries the transaction of an earlier checkpoint that did not complete: restored from it, both are committed once", async () => {
  const ledger = new Ledger<number>()
  const first = new LedgerSink(ledger).createWriter(context)
  for (const v of range(0, 10)) first.write(v, undefined)
  await first.snapshotState!(1) // checkpoint 1 is declined (its storage write failed, say): no completion
  for (const v of range(10, 10)) first.write(v, undefined)
  const state = await first.snapshotState!(2)
  assert.is(pendingIn(state), 2, "checkpoint 2's state names checkpoint 1's transaction too")
  // checkpoint 2 completes, and the job fails before the writer committed: a new writer restores it
  const second = new LedgerSink(ledger).createWriter(context, state)
  await second.ready?.()
  assert.equal(
    [...ledger.committed].sort((a, b) => a - b),
    range(0, 20),
    "checkpoint 1's records are not lost",
  )
  assert.is(ledger.counts.commits, 2)
  await second.close()
  await first.close()
})

test('a snapshot taken while a completion notice commits names the transaction being committed', async () => {
  const ledger = new Ledger<number>()
  const sink = new HeldCommits(ledger)
  const first = sink.createWriter(context)
  for (const v of range(0, 10)) first.write(v, undefined)
  await first.snapshotState!(1)
  sink.held = new Deferred()
  // the runtime runs notices in the background: checkpoint 2's barrier comes while 1's commit is in flight
  const notice = first.notifyCheckpointComplete!(1) as Promise<void>
  await sink.commitStarted.promise
  for (const v of range(10, 10)) first.write(v, undefined)
  const state = await first.snapshotState!(2)
  assert.is(pendingIn(state), 2, "checkpoint 2's state names the transaction whose commit is in flight")
  // that commit fails (the job fails over): the restore from checkpoint 2 commits both transactions
  sink.held.reject(new Error('injected fault: the commit fails'))
  await notice.then(
    () => assert.unreachable('the notice fails with its commit'),
    () => undefined,
  )
  const second = new LedgerSink(ledger).createWriter(context, state)
  await second.ready?.()
  assert.equal(
    [...ledger.committed].sort((a, b) => a - b),
    range(0, 20),
    'the records of checkpoint 1 are not lost',
  )
  assert.is(ledger.counts.commits, 2)
  await second.close()
  await first.close()
})

test.run()

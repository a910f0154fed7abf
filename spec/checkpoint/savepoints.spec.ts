import { readdirSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import type { CheckpointMetadata } from '../../lib/checkpoint/checkpoint-types.js'
import { DirectoryStorage } from '../../lib/checkpoint/directory-storage.js'
import { MemoryStorage } from '../../lib/checkpoint/memory-storage.js'
import type { FaultPlan } from '../support/fault-injection.js'
import { checkCounts } from '../support/fault-checks.js'
import { buildCountJob, GatedSequenceSource, SequenceGate } from '../support/fault-jobs.js'
import { Ledger, LedgerSink } from '../support/ledger-sink.js'
import { tempDir } from '../support/temp-dir.js'
import { settlesWithin, waitFor } from '../support/wait-for.js'

const RECORDS = 8000
const KEYS = 9

function plan(parallelism: number, busyEvery: number): FaultPlan {
  return {
    seed: 0,
    parallelism,
    sinkParallelism: parallelism,
    mode: 'exactly-once',
    intervalMs: 5,
    batchSize: 64,
    channelCredits: 4,
    records: RECORDS,
    keys: KEYS,
    busyEvery,
    busyMs: 1,
    tolerableFailures: 0,
    restartDelayMs: 0,
    faults: [],
  }
}

/** Exporting a savepoint takes a while (a slow disk): the job runs on meanwhile. */
class SlowExport extends MemoryStorage {
  override async saveSavepoint(metadata: CheckpointMetadata, directory: string): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 80))
    return super.saveSavepoint(metadata, directory)
  }
}

test('stop-with-savepoint in a running job commits nothing after the savepoint: the job restored from it writes each record once', async () => {
  const dir = tempDir('sluice-stop-')
  try {
    const ledger = new Ledger<string>()
    const first = StreamEnvironment.create({
      parallelism: 2,
      batchSize: 64,
      logLevel: 'silent',
      checkpointing: { intervalMs: 5, storage: new SlowExport() },
    })
    buildCountJob(first, plan(2, 20), undefined, new LedgerSink(ledger))
    const job = first.executeAsync('stopped mid-stream')
    await waitFor(() => ledger.committed.length >= 1500, { timeoutMs: 10_000, description: 'some records committed' })
    const savepoint = await settlesWithin(job.stopWithSavepoint(dir.file('sp')), { timeoutMs: 10_000 })
    assert.ok(ledger.committed.length < RECORDS, `stopped mid-stream (${ledger.committed.length} committed)`)

    const second = StreamEnvironment.create({
      parallelism: 3,
      batchSize: 64,
      logLevel: 'silent',
      restoreFrom: savepoint,
      checkpointing: { intervalMs: 5 },
    })
    buildCountJob(second, plan(3, 20), undefined, new LedgerSink(ledger))
    await settlesWithin(second.execute('restored'), { timeoutMs: 10_000 })
    assert.equal(checkCounts(ledger.committed, RECORDS, KEYS, 'exactly-once').problems, [])
  } finally {
    dir.remove()
  }
})

// Regression (an engine bug the fault injection found, now fixed): a savepoint is also completed into the job's checkpoint storage as `chk-<id>` with
// `savepoint: true` in its metadata, and DirectoryStorage.openSavepoint takes the state locations of
// such metadata as relative to the directory itself (`metadata.savepoint ? directory : join(directory,
// '..')`), while `complete()` wrote them relative to the storage root (`chk-<id>/<uid>-<n>.state`). So
// `restoreFrom: '<dir>/chk-<id>'` — documented as allowed for retained checkpoints — fails for it with
// ERR_STATE_MISSING ('<dir>/chk-<id>/chk-<id>/…'). Fix: resolve a handle's location against the storage
// root when it starts with `chk-<id>/` (or record the layout in the metadata) — see the report.
test('restoreFrom a retained chk-<id> directory works when that checkpoint was a savepoint', async () => {
  const dir = tempDir('sluice-chk-savepoint-')
  try {
    const gate = new SequenceGate(0.5)
    const ledger = new Ledger<string>()
    const first = StreamEnvironment.create({
      batchSize: 64,
      logLevel: 'silent',
      checkpointing: { intervalMs: 60_000, storage: new DirectoryStorage(dir.file('checkpoints')) },
    })
    buildCountJob(
      first,
      plan(1, 1_000_000),
      undefined,
      new LedgerSink(ledger),
      new GatedSequenceSource(1, RECORDS, gate),
    )
    const job = first.executeAsync('savepoint into the checkpoint directory')
    await waitFor(() => gate.emitted === RECORDS / 2, { timeoutMs: 5000 })
    await job.triggerSavepoint(dir.file('exported'))
    await job.cancel()
    const [retained] = readdirSync(dir.file('checkpoints')).filter((n) => n.startsWith('chk-'))
    assert.ok(retained !== undefined, 'the savepoint is retained as a checkpoint')
    assert.ok((await new DirectoryStorage(dir.file('checkpoints')).latest())?.savepoint, 'its metadata says savepoint')

    gate.open(1)
    const second = StreamEnvironment.create({
      batchSize: 64,
      logLevel: 'silent',
      restoreFrom: dir.file(`checkpoints/${retained}`),
      checkpointing: { intervalMs: 10 },
    })
    buildCountJob(
      second,
      plan(1, 1_000_000),
      undefined,
      new LedgerSink(ledger),
      new GatedSequenceSource(1, RECORDS, gate),
    )
    await settlesWithin(second.execute('restored from chk-<id>'), { timeoutMs: 10_000 })
    assert.equal(checkCounts(ledger.committed, RECORDS, KEYS, 'exactly-once').problems, [])
  } finally {
    dir.remove()
  }
})

/** A directory storage whose savepoint export is slow: checkpoints keep completing meanwhile. */
class SlowExportDirectory extends DirectoryStorage {
  override async saveSavepoint(metadata: CheckpointMetadata, directory: string): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 80))
    return super.saveSavepoint(metadata, directory)
  }
}

// Regression (an engine bug the fault injection found, now fixed): CheckpointStorage.complete() promises to drop the oldest checkpoints beyond retention
// "(savepoints are kept)"; MemoryStorage keeps them, DirectoryStorage.complete() counts a savepoint's
// chk-<id> among the retained ones and deletes it. JobHandle.triggerSavepoint exports the savepoint
// from that directory after it completed, so when `retain` checkpoints complete during the export it
// fails with ERR_STATE_MISSING. Fix: skip checkpoints whose metadata says savepoint in the retention
// of DirectoryStorage.complete() (and drop them once exported) — see the report.
test("DirectoryStorage keeps a savepoint's checkpoint until it is exported, whatever the retention", async () => {
  const dir = tempDir('sluice-retain-savepoint-')
  try {
    const ledger = new Ledger<string>()
    const env = StreamEnvironment.create({
      batchSize: 64,
      logLevel: 'silent',
      checkpointing: { intervalMs: 5, storage: new SlowExportDirectory(dir.file('checkpoints'), { retain: 1 }) },
    })
    buildCountJob(env, { ...plan(1, 5), records: 400_000 }, undefined, new LedgerSink(ledger))
    const job = env.executeAsync('long job')
    // generous limits: a loaded machine (CI beside other jobs) stretches 5 ms checkpoints a long way
    await waitFor(() => ledger.committed.length >= 500, { timeoutMs: 30_000 })
    try {
      const savepoint = await settlesWithin(job.triggerSavepoint(dir.file('sp')), { timeoutMs: 30_000 })
      assert.ok(readdirSync(savepoint).includes('_metadata'))
    } finally {
      await job.cancel()
    }
  } finally {
    dir.remove()
  }
})

test.run()

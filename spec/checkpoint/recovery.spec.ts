import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { DirectoryStorage } from '../../lib/checkpoint/directory-storage.js'
import { MemoryStorage } from '../../lib/checkpoint/memory-storage.js'
import { createLogger } from '../../lib/logging.js'
import { type Fault, type FaultPlan, FaultLog } from '../support/fault-injection.js'
import { checkCounts, countOfKey } from '../support/fault-checks.js'
import { FaultyStorage } from '../support/fault-operators.js'
import {
  buildCountJob,
  gateLimit,
  GatedSequenceSource,
  readCountSavepoint,
  runSchedule,
  SequenceGate,
} from '../support/fault-jobs.js'
import { Ledger, LedgerSink } from '../support/ledger-sink.js'
import { tempDir } from '../support/temp-dir.js'
import { coordinatorStep } from '../support/worker-pass/pass-context.js'
import { settlesWithin, waitFor } from '../support/wait-for.js'

function plan(changes: Partial<FaultPlan> & { faults: Fault[] }): FaultPlan {
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
    ...changes,
  }
}

// ---------------------------------------------------------------- corrupted checkpoints

const RECORDS = 6000
const KEYS = 7
const SPLITS = [
  { start: 1, end: RECORDS / 2 },
  { start: RECORDS / 2 + 1, end: RECORDS },
]

/** Runs the keyed count ×2 into `dir`, stopping at the gate three times so three checkpoints hold different positions. */
async function checkpointAtThreePositions(dir: string, ledger: Ledger<string>): Promise<number[]> {
  const gate = new SequenceGate(0)
  const env = StreamEnvironment.create({
    parallelism: 2,
    batchSize: 32,
    logLevel: 'silent',
    checkpointing: { intervalMs: 15, storage: new DirectoryStorage(dir, { retain: 3 }) },
  })
  buildCountJob(
    env,
    plan({ faults: [], busyEvery: 1_000_000 }),
    undefined,
    new LedgerSink(ledger),
    new GatedSequenceSource(1, RECORDS, gate),
  )
  const job = env.executeAsync('three positions')
  const ids: number[] = []
  for (const fraction of [0.2, 0.4, 0.6]) {
    gate.open(fraction)
    await waitFor(() => gate.emitted === SPLITS.reduce((n, s) => n + gateLimit(s, fraction), 0), {
      timeoutMs: 5000,
      description: `sources at ${fraction}`,
    })
    // a checkpoint triggered from now on sees the sources idle at the gate
    const after = Math.max(0, ...job.checkpoints().map((c) => c.id))
    await waitFor(() => job.checkpoints().some((c) => c.id > after && c.status === 'completed'), {
      timeoutMs: 5000,
      description: `a checkpoint at ${fraction}`,
    })
    ids.push(
      Math.max(
        ...job
          .checkpoints()
          .filter((c) => c.status === 'completed')
          .map((c) => c.id),
      ),
    )
    // and its transactions are committed, so a restore's recommits are all 'already-committed'
    await waitFor(() => ledger.committed.length === gate.emitted, {
      timeoutMs: 5000,
      description: 'everything read is committed',
    })
  }
  await job.cancel()
  return ids
}

const corruptions: Array<[string, (chk: string) => void]> = [
  [
    'its newest state file is truncated',
    (chk) => {
      const file = readdirSync(chk).find((n) => n.startsWith('count-') && n.endsWith('.state'))!
      truncateSync(join(chk, file), 10)
    },
  ],
  [
    'its _metadata is garbled',
    (chk) => {
      const text = readFileSync(join(chk, '_metadata'), 'utf8')
      const garbled = text.replace(/"id\\":\d+/, '"id\\":999')
      assert.ok(garbled !== text, 'the metadata was changed')
      writeFileSync(join(chk, '_metadata'), garbled)
    },
  ],
]

for (const [how, corrupt] of corruptions) {
  test(`a corrupted latest checkpoint (${how}) falls back to the previous one, and the job restores from it`, async () => {
    const dir = tempDir('sluice-corrupt-')
    try {
      const ledger = new Ledger<string>()
      const ids = await checkpointAtThreePositions(dir.path, ledger)
      // Between the jobs, on the coordinator only: the first job's checkpoint ids are the coordinator's,
      // and a replaying worker must not damage the checkpoint a second time.
      const { previous, before } = await coordinatorStep(async () => {
        const newest = ids.at(-1)!
        assert.is(
          (await new DirectoryStorage(dir.path).latest())?.id,
          newest,
          'before: the newest checkpoint is the latest',
        )
        const complete = readdirSync(dir.path)
          .filter((n) => /^chk-\d+$/.test(n))
          .map((n) => Number(n.slice(4)))
          .sort((a, b) => a - b)
        const previous = complete.filter((id) => id < newest).at(-1)!
        assert.ok(previous !== undefined, `a previous checkpoint is retained (${complete.join(', ')})`)

        corrupt(join(dir.path, `chk-${newest}`))
        const warnings: string[] = []
        const storage = new DirectoryStorage(dir.path, {
          logger: createLogger({ level: 'warn', write: (line) => warnings.push(line) }),
        })
        assert.is((await storage.latest())?.id, previous, 'after: latest() skips the corrupted one')
        assert.ok(
          warnings.some((w) => w.includes('skipping checkpoint') && w.includes(`"checkpoint":${newest}`)),
          'the skip is logged with the checkpoint id',
        )

        // What the previous checkpoint holds: the positions and counts the restored job must go on from.
        const before = await readCountSavepoint(join(dir.path, `chk-${previous}`))
        return { previous, before }
      })
      const lines: string[] = []
      const committedBefore = ledger.committed.length
      const gate = new SequenceGate(1)
      const env = StreamEnvironment.create({
        parallelism: 2,
        batchSize: 32,
        logger: createLogger({ level: 'info', write: (line) => lines.push(line) }),
        checkpointing: {
          intervalMs: 15,
          storage: new DirectoryStorage(dir.path, { logger: createLogger({ level: 'silent' }) }),
        },
      })
      buildCountJob(
        env,
        plan({ faults: [], busyEvery: 1_000_000 }),
        undefined,
        new LedgerSink(ledger),
        new GatedSequenceSource(1, RECORDS, gate),
      )
      await settlesWithin(env.execute('resumed'), { timeoutMs: 10_000, description: 'the resumed job finished' })
      assert.ok(
        lines.some((l) => l.includes('job restoring') && l.includes(`"checkpoint":${previous}`)),
        `the job logged that it restores checkpoint ${previous}`,
      )

      // The restored job writes exactly the numbers after the previous checkpoint's positions, each once,
      // with counts going on from its counts.
      const expectedXs = new Set<number>()
      for (const s of SPLITS) {
        const left = before.splits.find((b) => b.start === s.start)
        if (left !== undefined) for (let x = left.next; x <= s.end; x++) expectedXs.add(x)
      }
      // The ledger already holds what the first job committed up to the corrupted checkpoint (a restore
      // from an older checkpoint repeats what was committed after it: that is what corruption costs).
      const appended = ledger.committed.slice(committedBefore)
      const xs = appended.map((l) => Number(l.split('@')[0]))
      assert.is(xs.length, expectedXs.size, 'one output per number not yet read at the previous checkpoint')
      assert.equal(new Set(xs), expectedXs)
      for (let k = 0; k < KEYS; k++) {
        const ns = appended
          .map((l) => l.split('@')[1]!.split(':').map(Number))
          .filter(([key]) => key === k)
          .map(([, n]) => n!)
          .sort((a, b) => a - b)
        const from = (before.counts.get(k) ?? 0) + 1
        assert.equal(
          ns,
          Array.from({ length: countOfKey(RECORDS, KEYS, k) - from + 1 }, (_, i) => from + i),
          `key ${k} counts on from ${from - 1}`,
        )
      }
    } finally {
      dir.remove()
    }
  })
}

// ---------------------------------------------------------------- at-least-once, metrics

test('at-least-once mode loses nothing across a failure (records may repeat)', async () => {
  for (const sinkParallelism of [2, 1]) {
    const p = plan({
      mode: 'at-least-once',
      sinkParallelism,
      faults: [{ kind: 'throw-in-function', stage: 'count', subtask: 1, atRecord: 600 }],
    })
    const log = new FaultLog(p)
    const { ledger, restarts } = await runSchedule(p, log)
    assert.is(log.fired.size, 1, 'the failure was injected')
    assert.is(restarts, 1)
    const check = checkCounts(ledger.committed, p.records, p.keys, 'at-least-once')
    assert.equal(check.problems, [], `sink ×${sinkParallelism}: nothing lost (${check.duplicates} repeated)`)
  }
})

test('checkpoint metrics: id, status, duration, bytes and alignment time of every checkpoint', async () => {
  const p = plan({ sinkParallelism: 1, faults: [] })
  const { job, ledger } = await runSchedule(p, new FaultLog(p))
  assert.equal(checkCounts(ledger.committed, p.records, p.keys, 'exactly-once').problems, [])
  const stats = job.checkpoints()
  const completed = stats.filter((c) => c.status === 'completed')
  assert.ok(completed.length >= 2, `several checkpoints completed (${completed.length})`)
  assert.equal(
    stats.map((c) => c.id),
    [...stats.map((c) => c.id)].sort((a, b) => a - b),
    'ids increase',
  )
  assert.is(new Set(stats.map((c) => c.id)).size, stats.length, 'ids are unique')
  for (const c of completed) {
    assert.ok(Number.isInteger(c.id) && c.id > 0, `id ${c.id}`)
    assert.ok(Number.isFinite(c.durationMs) && c.durationMs >= 0, `checkpoint ${c.id}: durationMs ${c.durationMs}`)
    assert.ok(c.bytes > 0, `checkpoint ${c.id}: bytes ${c.bytes}`)
    assert.ok(Number.isFinite(c.alignmentMs) && c.alignmentMs >= 0, `checkpoint ${c.id}: alignmentMs ${c.alignmentMs}`)
    assert.ok(c.triggeredAt > 0 && c.failure === undefined)
  }
  assert.ok(
    completed.some((c) => c.alignmentMs > 0),
    'the sink ×1 behind a rebalance spent time aligning two inputs',
  )
})

// ---------------------------------------------------------------- failing snapshots

test('a failing snapshot is declined and the job goes on within tolerableFailures', async () => {
  let failing = 0
  const storage = new FaultyStorage(new MemoryStorage(), undefined, (id) => {
    if (id !== 3 && id !== 4) return false
    failing++
    return true
  })
  const p = plan({ faults: [], tolerableFailures: 2 })
  const ledger = new Ledger<string>()
  const env = StreamEnvironment.create({
    parallelism: p.parallelism,
    batchSize: p.batchSize,
    logLevel: 'silent',
    checkpointing: { intervalMs: p.intervalMs, tolerableFailures: 2, storage },
  })
  buildCountJob(env, p, undefined, new LedgerSink(ledger))
  const job = env.executeAsync()
  const result = await settlesWithin(job.result, { timeoutMs: 10_000 })
  assert.ok(failing > 0, 'the storage failed writes of checkpoints 3 and 4')
  assert.is(result.metrics.restarts, 0, 'no restart: two failures in a row are tolerated')
  const failed = job.checkpoints().filter((c) => c.status === 'failed')
  assert.equal(
    failed.map((c) => c.id),
    [3, 4],
    'checkpoints 3 and 4 were declined',
  )
  for (const c of failed) assert.match(c.failure ?? '', /injected fault: storage write/, 'the failure names the reason')
  assert.ok(
    job.checkpoints().some((c) => c.id > 4 && c.status === 'completed'),
    'later checkpoints complete',
  )
  assert.equal(checkCounts(ledger.committed, p.records, p.keys, 'exactly-once').problems, [])
})

test('a failing snapshot fails the job once failures in a row exceed tolerableFailures', async () => {
  const storage = new FaultyStorage(new MemoryStorage(), undefined, (id) => id >= 3)
  const p = plan({ faults: [] })
  const env = StreamEnvironment.create({
    parallelism: p.parallelism,
    batchSize: p.batchSize,
    logLevel: 'silent',
    checkpointing: { intervalMs: p.intervalMs, tolerableFailures: 2, storage },
  })
  buildCountJob(env, p, undefined, new LedgerSink(new Ledger<string>()))
  const job = env.executeAsync()
  const error = await settlesWithin(
    job.result.then(
      () => undefined,
      (e: unknown) => e as { code?: string; message?: string },
    ),
    { timeoutMs: 10_000 },
  )
  assert.ok(error !== undefined, 'the job failed')
  assert.is(error!.code, 'ERR_CHECKPOINT_FAILURES')
  assert.match(error!.message ?? '', /tolerableFailures/)
  assert.equal(
    job
      .checkpoints()
      .filter((c) => c.status === 'failed')
      .map((c) => c.id),
    [3, 4, 5],
    'the third failure in a row ends it',
  )
})

for (const how of ['throw', 'reject'] as const) {
  test(`an operator snapshot that ${how === 'throw' ? 'throws' : 'rejects'} fails over to the last checkpoint, and the output stays exact`, async () => {
    const p = plan({ faults: [{ kind: 'snapshot-fails', how, subtask: 1, checkpoint: 3 }], restartDelayMs: 1 })
    const log = new FaultLog(p)
    const { ledger, restarts, job } = await runSchedule(p, log)
    assert.is(log.fired.size, 1, 'the snapshot failed')
    assert.ok(restarts >= 1, 'the job restarted')
    assert.ok(
      job.checkpoints().some((c) => c.status === 'completed' && c.id > 3),
      'checkpoints complete after the restart',
    )
    assert.equal(checkCounts(ledger.committed, p.records, p.keys, 'exactly-once').problems, [])
  })
}

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { keyBy } from '../../lib/operators/key-by.js'
import { process } from '../../lib/operators/process.js'
import type { FaultPlan } from '../support/fault-injection.js'
import { checkCounts, countOfKey } from '../support/fault-checks.js'
import { FaultyRunningCount } from '../support/fault-operators.js'
import {
  buildCountJob,
  gateLimit,
  GatedSequenceSource,
  type GatedSplit,
  readCountSavepoint,
  SequenceGate,
} from '../support/fault-jobs.js'
import { Ledger, LedgerSink } from '../support/ledger-sink.js'
import { tempDir } from '../support/temp-dir.js'
import { settlesWithin, waitFor } from '../support/wait-for.js'

const RECORDS = 12_000
const KEYS = 16

function plan(parallelism: number): FaultPlan {
  return {
    seed: 0,
    parallelism,
    sinkParallelism: parallelism,
    mode: 'exactly-once',
    intervalMs: 10,
    batchSize: 64,
    channelCredits: 4,
    records: RECORDS,
    keys: KEYS,
    busyEvery: 1_000_000,
    busyMs: 0,
    tolerableFailures: 0,
    restartDelayMs: 0,
    faults: [],
  }
}

/** Per key, how many numbers of 1..RECORDS the sources have read when they stand at `splits` (split ranges of the first run). */
function consumedPerKey(firstSplits: readonly GatedSplit[], remaining: readonly GatedSplit[]): Map<number, number> {
  const counts = new Map<number, number>()
  for (const split of firstSplits) {
    const left = remaining.find((s) => s.start === split.start)
    const upTo = left === undefined ? split.end + 1 : left.next
    for (let x = split.start; x < upTo; x++) counts.set(x % KEYS, (counts.get(x % KEYS) ?? 0) + 1)
  }
  return counts
}

function startStage(parallelism: number, gate: SequenceGate, ledger: Ledger<string>, restoreFrom?: string) {
  const env = StreamEnvironment.create({
    parallelism,
    batchSize: 64,
    logLevel: 'silent',
    checkpointing: { intervalMs: 10 },
    ...(restoreFrom === undefined ? {} : { restoreFrom }),
  })
  buildCountJob(env, plan(parallelism), undefined, new LedgerSink(ledger), new GatedSequenceSource(1, RECORDS, gate))
  return env.executeAsync(`rescaling ×${parallelism}`)
}

test("rescaling 2 → 3 → 1 through stop-with-savepoint keeps every key's count, and the output is exact", async () => {
  const dir = tempDir('sluice-rescale-')
  try {
    const gate = new SequenceGate(0.3)
    const ledger = new Ledger<string>()
    // The first run (×2) cuts the range into two splits; they keep their ranges through every restore.
    const firstSplits: GatedSplit[] = [
      { start: 1, next: 1, end: RECORDS / 2 },
      { start: RECORDS / 2 + 1, next: RECORDS / 2 + 1, end: RECORDS },
    ]
    const readTo = (fraction: number): number => firstSplits.reduce((n, s) => n + gateLimit(s, fraction), 0)

    const stages: Array<{ parallelism: number; fraction: number }> = [
      { parallelism: 2, fraction: 0.3 },
      { parallelism: 3, fraction: 0.7 },
    ]
    let savepoint: string | undefined
    for (const [i, { parallelism, fraction }] of stages.entries()) {
      gate.open(fraction)
      const job = startStage(parallelism, gate, ledger, savepoint)
      await waitFor(() => gate.emitted === readTo(fraction), {
        timeoutMs: 10_000,
        description: `×${parallelism} read up to ${fraction} of each split`,
      })
      savepoint = await settlesWithin(job.stopWithSavepoint(dir.file(`sp-${i + 1}`)), {
        timeoutMs: 10_000,
        description: 'stop with savepoint',
      })
      const sp = await readCountSavepoint(savepoint)
      assert.is(sp.countParallelism, parallelism, 'the savepoint was taken at the stage parallelism')
      assert.is(
        sp.countSubtasksWithState,
        parallelism,
        `each of the ${parallelism} count subtasks wrote its key groups`,
      )
      assert.equal(
        sp.splits.map((s) => s.next),
        firstSplits.map((s) => s.start + gateLimit(s, fraction)),
        'the sources stand at the gate',
      )
      assert.equal(
        sp.counts,
        consumedPerKey(firstSplits, sp.splits),
        `×${parallelism}: every key's count in the savepoint equals what the sources read for it`,
      )
    }

    gate.open(1)
    const last = startStage(1, gate, ledger, savepoint)
    await settlesWithin(last.result, { timeoutMs: 10_000, description: 'the ×1 run finished' })

    const finalCount = new Map<number, number>()
    for (const line of ledger.committed) {
      const [, kn] = line.split('@') as [string, string]
      const [k, n] = kn.split(':').map(Number) as [number, number]
      finalCount.set(k, Math.max(finalCount.get(k) ?? 0, n))
    }
    for (let k = 0; k < KEYS; k++) assert.is(finalCount.get(k), countOfKey(RECORDS, KEYS, k), `key ${k}: final count`)
    assert.equal(checkCounts(ledger.committed, RECORDS, KEYS, 'exactly-once').problems, [])
  } finally {
    dir.remove()
  }
})

test('state that no operator claims fails the restore with a clear error, unless allowNonRestoredState', async () => {
  const dir = tempDir('sluice-unclaimed-')
  try {
    const gate = new SequenceGate(0.5)
    const ledger = new Ledger<string>()
    const first = startStage(1, gate, ledger)
    await waitFor(() => gate.emitted === RECORDS / 2, { timeoutMs: 10_000, description: 'half read' })
    const savepoint = await first.stopWithSavepoint(dir.file('sp'))
    gate.open(1)

    // The same job without the 'snapshot-fault' operator (which has split state in the savepoint).
    const withoutOperator = (allowNonRestoredState: boolean) => {
      const env = StreamEnvironment.create({
        logLevel: 'silent',
        restoreFrom: savepoint,
        allowNonRestoredState,
        checkpointing: { intervalMs: 10 },
      })
      env
        .fromSource(new GatedSequenceSource(1, RECORDS, gate), { uid: 'numbers' })
        .pipe(
          keyBy((x: number) => x % KEYS),
          process(new FaultyRunningCount(undefined), { uid: 'count' }),
        )
        .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
      return env.executeAsync('without snapshot-fault')
    }
    // refused when started: executeAsync throws before any subtask runs
    let error: { code?: string; message?: string } | undefined
    try {
      withoutOperator(false)
    } catch (e) {
      error = e as { code?: string; message?: string }
    }
    assert.ok(error !== undefined, 'the job was refused')
    assert.is(error!.code, 'ERR_STATE_UNCLAIMED')
    assert.match(error!.message ?? '', /snapshot-fault/, 'the error names the unclaimed operator uid')
    assert.match(error!.message ?? '', /allowNonRestoredState/, 'the error says how to drop it')
    assert.is(ledger.committed.length, RECORDS / 2, 'nothing was written by the refused job')

    await settlesWithin(withoutOperator(true).result, {
      timeoutMs: 10_000,
      description: 'the job with allowNonRestoredState finished',
    })
    assert.equal(
      checkCounts(ledger.committed, RECORDS, KEYS, 'exactly-once').problems,
      [],
      'the dropped state did not matter; the rest restored exactly',
    )
  } finally {
    dir.remove()
  }
})

test.run()

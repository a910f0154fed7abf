import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { checkCounts } from '../support/fault-checks.js'
import { FileFaultLog } from '../support/fault-files.js'
import { describePlan, type FaultPlan, planFromSeed, seedsFromEnv } from '../support/fault-injection.js'
import { FileLedger } from '../support/ledger-files.js'
import { type TempDir, tempDir } from '../support/temp-dir.js'

/**
 * Exactly-once on the worker executor, by fault injection: each seed draws a job shape (parallelism
 * 1–3 on 2 worker threads, sink chained or behind a rebalance, checkpoint interval, exactly-once or
 * at-least-once), a worker thread dying at record N of map subtask S (process.exit in the thread, or
 * an uncaught error there; after a checkpoint completed, so that the restart restores one), and maybe
 * one more fault — a user function throwing, an operator snapshot
 * throwing or rejecting, the checkpoint storage failing a write. Even seeds keep checkpoints in a
 * DirectoryStorage the workers write, odd seeds in a MemoryStorage on the coordinator that the workers
 * write through the coordinator. The job restarts on fresh workers
 * from its latest checkpoint, and the committed output must be exactly the keyed count (exactly-once)
 * or contain all of it (at-least-once). Several schedules share one child process (the entry module
 * runs again in every worker, so the jobs cannot live in this spec file).
 *
 * Replay one schedule: SEED=7 npx tsx spec/checkpoint/worker-crash.spec.ts
 * More schedules:      SEEDS=100 SEED_BASE=1000 npx tsx spec/checkpoint/worker-crash.spec.ts
 */
const WorkerCrash = suite('checkpoint worker crash')
const SPEC = 'spec/checkpoint/worker-crash.spec.ts'
const JOB = join(import.meta.dirname, '../support/child-jobs/worker-fault-job.ts')
/** Schedules per child process: its start-up (and tsx's) is paid once for them. */
const PER_PROCESS = 5

const run = promisify(execFile)

/** How a schedule's job ended, as the child process printed it. */
interface Outcome {
  readonly seed: number
  readonly status: string
  readonly restarts?: number
  readonly error?: string
}

const plans = seedsFromEnv(20, 1).map((seed) =>
  planFromSeed(seed, {
    kinds: ['throw-in-function', 'snapshot-fails', 'storage-write-fails', 'crash-worker'],
    first: 'crash-worker',
    records: [2000, 6000],
    // a job runs long enough for checkpoints to complete before the worker dies
    busyTotalMs: [150, 300],
  }),
)
const dir: { current: TempDir | undefined } = { current: undefined }
const groups = new Map<number, Promise<Map<number, Outcome>>>()
const stats = { schedules: 0, crashed: 0, restarts: 0, fired: 0, planned: 0, startedAt: 0 }

/** Runs the group of schedules that `index` belongs to, once; resolves with each seed's outcome. */
function outcomesOf(index: number): Promise<Map<number, Outcome>> {
  const group = Math.floor(index / PER_PROCESS)
  let outcomes = groups.get(group)
  if (outcomes === undefined) {
    const members = plans.slice(group * PER_PROCESS, (group + 1) * PER_PROCESS)
    outcomes = run(process.execPath, ['--import', 'tsx', JOB, JSON.stringify(members), dir.current!.path, '2'], {
      env: { ...process.env, SLUICE_EXECUTOR: '' },
      timeout: 300_000,
    }).then(({ stdout }) => {
      const lines = stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
      return new Map(lines.map((l) => JSON.parse(l) as Outcome).map((o) => [o.seed, o]))
    })
    groups.set(group, outcomes)
  }
  return outcomes
}

WorkerCrash.before(() => {
  dir.current = tempDir('sluice-worker-crash-')
  stats.startedAt = performance.now()
})

WorkerCrash.after(() => {
  dir.current?.remove()
  console.log(
    `  worker crash: ${stats.schedules} schedules in ${((performance.now() - stats.startedAt) / 1000).toFixed(1)} s; ${stats.fired}/${stats.planned} planned faults fired; ${stats.restarts} restarts`,
  )
})

plans.forEach((plan: FaultPlan, index) => {
  const crash = plan.faults[0]!
  const faults = plan.faults.map((f) => (f.kind === 'crash-worker' ? `crash-worker(${f.how})` : f.kind)).join('+')
  WorkerCrash(
    `seed ${plan.seed}: ${plan.mode} ×${plan.parallelism}${plan.sinkParallelism !== plan.parallelism ? '→1' : ''} on 2 worker threads, ${plan.records} records, ${faults}: the committed output is ${plan.mode === 'exactly-once' ? 'exact' : 'complete'}`,
    async () => {
      const outcome = (await outcomesOf(index)).get(plan.seed)
      const work = join(dir.current!.path, String(plan.seed))
      const fired = FileFaultLog.firedIn(join(work, 'faults'))
      const where = `\n${describePlan(plan, SPEC)}\n  fired: ${fired.map((i) => plan.faults[i]!.kind).join(', ') || 'none'}; job: ${JSON.stringify(outcome)}`
      assert.is(outcome?.status, 'finished', `the job did not finish${where}`)
      // A second fault that restarts the job first can leave the crash unreached (its record count is
      // per attempt, and the restored attempt starts from the checkpoint): then that fault must have fired.
      const crashed = crash.kind === 'crash-worker' && fired.includes(0)
      assert.ok(crashed || fired.length > 0, `the worker thread was never crashed, nor any other fault fired${where}`)
      if (crashed) stats.crashed++
      assert.ok((outcome!.restarts ?? 0) >= 1, `the job never restarted${where}`)
      const committed = FileLedger.readCommitted<string>(join(work, 'ledger'))
      const check = checkCounts(committed, plan.records, plan.keys, plan.mode)
      assert.equal(check.problems, [], `committed output is wrong: ${check.problems.join('; ')}${where}`)
      if (plan.mode === 'exactly-once')
        assert.is(committed.length, plan.records, `committed ${committed.length} records${where}`)
      stats.schedules++
      stats.restarts += outcome!.restarts ?? 0
      stats.fired += fired.length
      stats.planned += plan.faults.length
    },
  )
})

WorkerCrash('most schedules crashed a worker thread (a run whose crashes never fired cannot pass)', () => {
  assert.is(stats.schedules, plans.length)
  assert.ok(stats.crashed >= Math.ceil(plans.length * 0.75), `${stats.crashed} of ${plans.length} crashed a worker`)
})

WorkerCrash.run()

import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { checkCounts } from '../support/fault-checks.js'
import { describePlan, killPlanFromSeed, seedsFromEnv } from '../support/fault-injection.js'
import { briefly, type KillScheduleRun, runUntilFinished } from '../support/fault-process.js'
import { FileLedger } from '../support/ledger-files.js'
import { tempDir } from '../support/temp-dir.js'

/**
 * Exactly-once across SIGKILL of the whole process on the worker executor: the schedules of
 * process-kill.spec.ts (same harness, same child job) with the job on two worker threads
 * (`executor: { kind: 'workers', threads: 2 }`, parallelism 2–3 so both threads host subtasks). The
 * workers write their state into the checkpoint directory (DirectoryStorage) and commit the file
 * ledger; the coordinator writes the checkpoint metadata. A kill falls while the process and its
 * workers load and restore (up to 5 s after the start), mid-run, or right after a checkpoint completed;
 * each restart resumes from the newest complete checkpoint, and the committed output must be exactly
 * the keyed count.
 *
 * Replay one schedule: SEED=3 npx tsx spec/checkpoint/worker-sigkill.spec.ts
 * More schedules:      SEEDS=100 SEED_BASE=1000 npx tsx spec/checkpoint/worker-sigkill.spec.ts
 */
const WorkerSigkill = suite('checkpoint SIGKILL on worker threads')
const SPEC = 'spec/checkpoint/worker-sigkill.spec.ts'
const SCRIPT = 'spec/support/child-jobs/keyed-count-job.ts'
const THREADS = 2
/** Per run of the process: a worker-executor start-up takes about 4 s on the loaded 2-core machine. */
const RUN_TIMEOUT_MS = 120_000

const stats = { schedules: 0, runs: 0, kills: 0, restores: 0, longestRunMs: 0, startedAt: 0 }
WorkerSigkill.before(() => {
  stats.startedAt = performance.now()
})
WorkerSigkill.after(() => {
  console.log(
    `  SIGKILL on workers: ${stats.schedules} schedules, ${stats.runs} processes, ${stats.kills} SIGKILLs, ${stats.restores} restores in ${((performance.now() - stats.startedAt) / 1000).toFixed(1)} s; longest run ${(stats.longestRunMs / 1000).toFixed(1)} s`,
  )
})

for (const seed of seedsFromEnv(3, 1)) {
  const plan = killPlanFromSeed(seed, { kills: [2, 4], parallelism: [2, 3], spawnDelayMs: [0, 5000] })
  const fault = plan.faults[0]!
  const kills = fault.kind === 'kill' ? fault.at.length : 0
  WorkerSigkill(
    `seed ${seed}: ×${plan.parallelism} on ${THREADS} worker threads every ${plan.intervalMs} ms, ${plan.records} records, up to ${kills} SIGKILLs and restarts on one checkpoint directory: the committed output is exact`,
    async () => {
      const dir = tempDir('sluice-worker-kill-')
      try {
        let run: KillScheduleRun
        try {
          run = await runUntilFinished(SCRIPT, plan, dir.path, {
            args: [String(THREADS)],
            timeoutMs: RUN_TIMEOUT_MS,
            describe: (o) => `${briefly(o)} in ${(o.durationMs / 1000).toFixed(1)} s`,
          })
        } catch (error) {
          assert.unreachable(`${(error as Error).message}\n${describePlan(plan, SPEC)}`)
          return
        }
        const where = `\n${describePlan(plan, SPEC)}\n  ${run.log.join('\n  ')}`
        assert.ok(run.kills >= 1, `the process was never killed${where}`)
        const restores = run.log.filter((line) => line.includes(': restoring ')).length
        assert.ok(restores >= 1, `no run restored from a checkpoint${where}`)
        // `<pid>-<thread id>`, one per worker thread that built the job
        const threads = existsSync(join(dir.path, 'threads')) ? readdirSync(join(dir.path, 'threads')) : []
        const perProcess = new Map<string, number>()
        for (const name of threads) {
          const pid = name.split('-')[0]!
          perProcess.set(pid, (perProcess.get(pid) ?? 0) + 1)
        }
        const most = Math.max(0, ...perProcess.values())
        assert.is(most, THREADS, `worker threads that built the job: ${threads.join(', ')}${where}`)
        const committed = FileLedger.readCommitted<string>(join(dir.path, 'ledger'))
        const check = checkCounts(committed, plan.records, plan.keys, 'exactly-once')
        assert.equal(check.problems, [], `committed output is wrong: ${check.problems.join('; ')}${where}`)
        assert.is(committed.length, plan.records, `committed ${committed.length} records${where}`)
        stats.schedules++
        stats.runs += run.runs
        stats.kills += run.kills
        stats.restores += restores
        stats.longestRunMs = Math.max(stats.longestRunMs, run.longestRunMs)
      } finally {
        dir.remove()
      }
    },
  )
}

WorkerSigkill.run()

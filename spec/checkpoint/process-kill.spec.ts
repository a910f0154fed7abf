import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { describePlan, killPlanFromSeed, seedsFromEnv } from '../support/fault-injection.js'
import { checkCounts } from '../support/fault-checks.js'
import { runUntilFinished } from '../support/fault-process.js'
import { FileLedger } from '../support/ledger-files.js'
import { tempDir } from '../support/temp-dir.js'

/**
 * Exactly-once across SIGKILL: a seeded schedule runs the keyed count in a child process with its
 * checkpoints in a directory (DirectoryStorage) and its output in a file-backed transactional ledger,
 * kills the process at seeded moments (while it loads and restores, mid-run, right after a checkpoint
 * completed, when its commits race the kill), starts it again on the same directory each time — the
 * job resumes from the newest complete checkpoint there — until it exits 0, then compares the
 * committed output with the exact keyed count.
 *
 * Replay one schedule: SEED=3 npx tsx spec/checkpoint/process-kill.spec.ts
 */
const ProcessKill = suite('checkpoint process kill')
const SPEC = 'spec/checkpoint/process-kill.spec.ts'
const SCRIPT = 'spec/support/child-jobs/keyed-count-job.ts'

const stats = { schedules: 0, runs: 0, kills: 0, startedAt: 0 }
ProcessKill.before(() => {
  stats.startedAt = performance.now()
})
ProcessKill.after(() => {
  console.log(
    `  process kill: ${stats.schedules} schedules, ${stats.runs} processes, ${stats.kills} SIGKILLs in ${((performance.now() - stats.startedAt) / 1000).toFixed(1)} s`,
  )
})

for (const seed of seedsFromEnv(4, 1)) {
  const plan = killPlanFromSeed(seed)
  const fault = plan.faults[0]!
  const kills = fault.kind === 'kill' ? fault.at.length : 0
  ProcessKill(
    `seed ${seed}: ×${plan.parallelism} every ${plan.intervalMs} ms, ${plan.records} records, up to ${kills} SIGKILLs and restarts on one checkpoint directory: the committed output is exact`,
    async () => {
      const dir = tempDir('sluice-kill-')
      try {
        let run
        try {
          run = await runUntilFinished(SCRIPT, plan, dir.path)
        } catch (error) {
          assert.unreachable(`${(error as Error).message}\n${describePlan(plan, SPEC)}`)
          return
        }
        stats.schedules++
        stats.runs += run.runs
        stats.kills += run.kills
        const where = `\n${describePlan(plan, SPEC)}\n  ${run.log.join('\n  ')}`
        assert.ok(run.kills >= 1, `the process was never killed${where}`)
        const committed = FileLedger.readCommitted<string>(`${dir.path}/ledger`)
        const check = checkCounts(committed, plan.records, plan.keys, 'exactly-once')
        assert.equal(check.problems, [], `committed output is wrong: ${check.problems.join('; ')}${where}`)
        assert.is(committed.length, plan.records, `committed ${committed.length} records${where}`)
      } finally {
        dir.remove()
      }
    },
  )
}

ProcessKill.run()

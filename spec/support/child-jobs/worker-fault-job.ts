/**
 * The fault schedules of the worker executor, run as their own process:
 *
 *   node --import tsx spec/support/child-jobs/worker-fault-job.ts '<plans json>' <work dir> <threads>
 *
 * Runs one job per plan, one after the other, each the keyed count of spec/support/fault-jobs.ts on
 * the worker executor, with its checkpoints in `<work dir>/<seed>/checkpoints` (a DirectoryStorage
 * that fails writes as the plan says; for odd seeds a MemoryStorage on the coordinator instead, which
 * the workers write through the coordinator), its output in the file ledger `<work dir>/<seed>/ledger` and its
 * fired faults in `<work dir>/<seed>/faults`: every worker thread runs this file again, builds the same
 * jobs and reads the same directories. The coordinator prints one JSON line per job: its seed, how it
 * ended, how often it restarted and how many checkpoints completed.
 */
import { join } from 'node:path'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { MemoryStorage } from '../../../lib/checkpoint/memory-storage.js'
import { isCoordinator } from '../../../lib/runtime/workers/worker-thread.js'
import type { FaultPlan } from '../fault-injection.js'
import { FaultyDirectoryStorage, FileFaultLog } from '../fault-files.js'
import { buildCountJob } from '../fault-jobs.js'
import { FaultyStorage } from '../fault-operators.js'
import { FileLedger, FileLedgerSink } from '../ledger-files.js'

const [plansText, workDir, threadsText] = process.argv.slice(2)
if (plansText === undefined || workDir === undefined) {
  process.stderr.write('usage: worker-fault-job.ts <plans json> <work dir> [threads]\n')
  process.exit(2)
}
const threads = Number(threadsText ?? 2)

for (const plan of JSON.parse(plansText) as FaultPlan[]) {
  const dir = join(workDir, String(plan.seed))
  const log = new FileFaultLog(plan, join(dir, 'faults'))
  const env = StreamEnvironment.create({
    parallelism: plan.parallelism,
    batchSize: plan.batchSize,
    channelCredits: plan.channelCredits,
    logLevel: 'silent',
    executor: { kind: 'workers', threads },
    checkpointing: {
      intervalMs: plan.intervalMs,
      mode: plan.mode,
      tolerableFailures: plan.tolerableFailures,
      storage:
        plan.seed % 2 === 1
          ? new FaultyStorage(new MemoryStorage(), log)
          : new FaultyDirectoryStorage(join(dir, 'checkpoints'), log),
    },
    restartStrategy: { kind: 'fixed-delay', attempts: plan.faults.length * 2 + 2, delayMs: plan.restartDelayMs },
  })
  buildCountJob(env, plan, log, new FileLedgerSink(new FileLedger(join(dir, 'ledger'))))
  const job = env.executeAsync(`worker fault schedule ${plan.seed}`)
  const outcome = await job.result.then(
    (result) => ({
      status: result.status,
      restarts: result.metrics.restarts,
      checkpoints: job.checkpoints().filter((c) => c.status === 'completed').length,
    }),
    (error: Error) => ({ status: 'failed', error: `${(error as { code?: string }).code}: ${error.message}` }),
  )
  if (isCoordinator()) process.stdout.write(`${JSON.stringify({ seed: plan.seed, ...outcome })}\n`)
}

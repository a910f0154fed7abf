/**
 * A job for process-kill tests, run as its own process:
 *
 *   node --import tsx spec/support/child-jobs/keyed-count-job.ts '<plan json>' <work dir> [worker threads]
 *
 * It runs the keyed count of a fault plan (spec/support/fault-jobs.ts) with its checkpoints in
 * `<work dir>/checkpoints` (DirectoryStorage) and its output in the file ledger `<work dir>/ledger`.
 * Started again with the same directory it resumes from the newest complete checkpoint there. It
 * prints one line per event — `restoring <id>|fresh`, `running`, `checkpoint <id>`, `finished` — and
 * exits 0 when the job finished, 1 when it failed. With `worker threads` (or under
 * SLUICE_EXECUTOR=workers) it runs on the worker executor: the worker threads run this file again to
 * build the job, each leaves an empty file `<work dir>/threads/<pid>-<thread id>` to show it did, and
 * only the coordinator prints.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import { isCoordinator } from '../../../lib/runtime/workers/worker-thread.js'
import type { FaultPlan } from '../fault-injection.js'
import { buildCountJob } from '../fault-jobs.js'
import { FileLedger, FileLedgerSink } from '../ledger-files.js'
import { jobArguments, planEnvironment, reportJob } from '../job-process.js'

const [planText, workDir, threads] = jobArguments(
  'spec/support/child-jobs/keyed-count-job.ts',
  '<plan json>',
  '<work dir>',
  '[worker threads]',
)
const plan = JSON.parse(planText) as FaultPlan
if (!isCoordinator()) {
  mkdirSync(join(workDir, 'threads'), { recursive: true })
  writeFileSync(join(workDir, 'threads', `${process.pid}-${threadId}`), '')
}
const env = await planEnvironment(
  plan,
  workDir,
  threads === undefined ? undefined : { kind: 'workers', threads: Number(threads) },
)
buildCountJob(env, plan, undefined, new FileLedgerSink(new FileLedger(join(workDir, 'ledger'))))
const job = env.executeAsync(`keyed count ${plan.seed}`)
reportJob(job)

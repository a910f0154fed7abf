/**
 * A job for process-kill tests, run as its own process:
 *
 *   node --import tsx spec/support/child-jobs/keyed-count-job.ts '<plan json>' <work dir>
 *
 * It runs the keyed count of a fault plan (spec/support/fault-jobs.ts) with its checkpoints in
 * `<work dir>/checkpoints` (DirectoryStorage) and its output in the file ledger `<work dir>/ledger`.
 * Started again with the same directory it resumes from the newest complete checkpoint there. It
 * prints one line per event — `restoring <id>|fresh`, `running`, `checkpoint <id>`, `finished` — and
 * exits 0 when the job finished, 1 when it failed. Under SLUICE_EXECUTOR=workers the worker threads
 * run this file again to build the job; only the coordinator prints.
 */
import { join } from 'node:path'
import type { FaultPlan } from '../fault-injection.js'
import { buildCountJob } from '../fault-jobs.js'
import { FileLedger, FileLedgerSink } from '../ledger-files.js'
import { jobArguments, planEnvironment, reportJob } from '../job-process.js'

const [planText, workDir] = jobArguments('spec/support/child-jobs/keyed-count-job.ts', '<plan json>', '<work dir>')
const plan = JSON.parse(planText) as FaultPlan
const env = await planEnvironment(plan, workDir)
buildCountJob(env, plan, undefined, new FileLedgerSink(new FileLedger(join(workDir, 'ledger'))))
const job = env.executeAsync(`keyed count ${plan.seed}`)
reportJob(job)

/**
 * The keyed count of a fault plan written to Cassandra through the write-ahead-log sink (exactly-once),
 * for process-kill tests, run as its own process:
 *
 *   node --import tsx spec/support/child-jobs/cassandra-count-job.ts '<plan json>' <work dir>
 *
 * `<work dir>/cassandra` holds `{ contactPoint, dataCenter, keyspace, run, counter }`: each output line
 * is a counter increment `UPDATE <keyspace>.seen SET seen = seen + 1 WHERE run = ? AND line = ?` (a
 * line written twice counts 2) when `counter`, else an upsert `INSERT INTO <keyspace>.lines (run, line)`;
 * the sink id is `run`. Checkpoints go to `<work dir>/checkpoints`; started
 * again on the same directory the job resumes from the newest complete one. It prints
 * `restoring <id>|fresh`, `running`, `checkpoint <id>`, `finished`, and exits 0 when the job finished,
 * 1 when it failed.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CassandraSink } from '../../../lib/connectors/cassandra/index.js'
import type { FaultPlan } from '../fault-injection.js'
import { buildCountJob } from '../fault-jobs.js'
import { jobArguments, planEnvironment, reportJob } from '../job-process.js'

const [planText, workDir] = jobArguments('spec/support/child-jobs/cassandra-count-job.ts', '<plan json>', '<work dir>')
const plan = JSON.parse(planText) as FaultPlan
const target = JSON.parse(readFileSync(join(workDir, 'cassandra'), 'utf8')) as {
  contactPoint: string
  dataCenter: string
  keyspace: string
  run: string
  counter: boolean
}
const env = await planEnvironment(plan, workDir)
const sink = new CassandraSink<string>({
  contactPoints: [target.contactPoint],
  localDataCenter: target.dataCenter,
  statement: (line) => ({
    query: target.counter
      ? `UPDATE ${target.keyspace}.seen SET seen = seen + 1 WHERE run = ? AND line = ?`
      : `INSERT INTO ${target.keyspace}.lines (run, line) VALUES (?, ?)`,
    params: [target.run, line],
  }),
  guarantee: 'exactly-once',
  sinkId: target.run,
  committer: { keyspace: target.keyspace },
  maxConcurrentRequests: 32,
})
buildCountJob(env, plan, undefined, sink)
reportJob(env.executeAsync(`keyed count to cassandra ${plan.seed}`))

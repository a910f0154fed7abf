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
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { DirectoryStorage } from '../../../lib/checkpoint/directory-storage.js'
import { CassandraSink } from '../../../lib/connectors/cassandra/index.js'
import type { FaultPlan } from '../fault-injection.js'
import { buildCountJob } from '../fault-jobs.js'

const [planText, workDir] = process.argv.slice(2)
if (planText === undefined || workDir === undefined) {
  process.stderr.write('usage: cassandra-count-job.ts <plan json> <work dir>\n')
  process.exit(2)
}
const plan = JSON.parse(planText) as FaultPlan
const target = JSON.parse(readFileSync(join(workDir, 'cassandra'), 'utf8')) as {
  contactPoint: string
  dataCenter: string
  keyspace: string
  run: string
  counter: boolean
}
const storage = new DirectoryStorage(join(workDir, 'checkpoints'))
const say = (line: string): void => void process.stdout.write(`${line}\n`)

const restored = await storage.latest()
say(restored === undefined ? 'fresh' : `restoring ${restored.id}`)
const env = StreamEnvironment.create({
  parallelism: plan.parallelism,
  batchSize: plan.batchSize,
  channelCredits: plan.channelCredits,
  logLevel: 'silent',
  checkpointing: { intervalMs: plan.intervalMs, mode: plan.mode, storage },
})
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
const job = env.executeAsync(`keyed count to cassandra ${plan.seed}`)
let reported = 0
const progress = setInterval(() => {
  for (const c of job.checkpoints()) {
    if (c.status === 'completed' && c.id > reported) {
      reported = c.id
      say(`checkpoint ${c.id}`)
    }
  }
}, 5)
void job.running.then(() => say('running'))
try {
  await job.result
  clearInterval(progress)
  say('finished')
  process.exit(0)
} catch (error) {
  clearInterval(progress)
  process.stderr.write(`job failed: ${(error as Error)?.stack ?? String(error)}\n`)
  process.exit(1)
}

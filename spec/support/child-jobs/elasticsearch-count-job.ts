/**
 * The keyed count of a fault plan written to Elasticsearch, for process-kill tests, run as its own
 * process:
 *
 *   node --import tsx spec/support/child-jobs/elasticsearch-count-job.ts '<plan json>' <work dir>
 *
 * `<work dir>/es-url` holds the URL of the node (the test's loopback server, which outlives the kills)
 * and `<work dir>/es-index` the index; each output line `x@key:n` is indexed with id `x`. Checkpoints go
 * to `<work dir>/checkpoints`; started again on the same directory the job resumes from the newest
 * complete one. It prints `restoring <id>|fresh`, `running`, `checkpoint <id>`, `finished`, and exits 0
 * when the job finished, 1 when it failed.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ElasticsearchSink } from '../../../lib/connectors/elasticsearch/index.js'
import type { FaultPlan } from '../fault-injection.js'
import { buildCountJob } from '../fault-jobs.js'
import { jobArguments, planEnvironment, reportJob } from '../job-process.js'

const [planText, workDir] = jobArguments(
  'spec/support/child-jobs/elasticsearch-count-job.ts',
  '<plan json>',
  '<work dir>',
)
const plan = JSON.parse(planText) as FaultPlan
const url = readFileSync(join(workDir, 'es-url'), 'utf8')
const index = readFileSync(join(workDir, 'es-index'), 'utf8')
const env = await planEnvironment(plan, workDir)
const sink = new ElasticsearchSink<string>({
  nodes: url,
  emitter: (line) => ({ type: 'index', index, id: line.slice(0, line.indexOf('@')), document: { line } }),
  maxActions: 200,
  flushIntervalMs: 5,
})
buildCountJob(env, plan, undefined, sink)
const job = env.executeAsync(`keyed count to elasticsearch ${plan.seed}`)
reportJob(job)

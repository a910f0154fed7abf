// The job file of case f's worker-executor contender, run in a child process per measured run (the
// worker executor runs its entry module again in every worker thread, so the job cannot live in the
// harness): the keyed count of case f at parallelism 2 on 2 worker threads, its job server and the 32
// clients on the main thread. QB_MS: how long the clients ask. Prints one JSON line (coordinator only):
// a RunResult whose `ms` and `cpuMs` are those of the lookups, `cpuMs` the main thread's CPU time.
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { isCoordinator } from '../../lib/runtime/workers/worker-thread.js'
import { countingJob, lookupsDuringJob } from './queryable-load.js'

const ms = Number(process.env.QB_MS ?? 3_000)
const env = StreamEnvironment.create({
  parallelism: 2,
  logLevel: 'silent',
  queryableState: { port: 0 },
  executor: { kind: 'workers', threads: 2 },
})
// the sink runs in the workers: the job's progress comes back through its metrics
countingJob(env, () => {})
const job = env.executeAsync('bench: queryable state on workers')

if (isCoordinator())
  lookupsDuringJob(job, ms).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`)
      process.exit(0)
    },
    (error: unknown) => {
      process.stderr.write(`${String((error as Error).stack ?? error)}\n`)
      process.exit(1)
    },
  )

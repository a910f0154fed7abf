// The job file of case f's worker-executor contender, run in a child process per measured run (the
// worker executor runs its entry module again in every worker thread, so the job cannot live in the
// harness): the keyed count of case f at parallelism 2 on 2 worker threads, its job server and the 32
// clients on the main thread. QB_MS: how long the clients ask. Prints one JSON line (coordinator only):
// a RunResult whose `ms` and `cpuMs` are those of the lookups, `cpuMs` the main thread's CPU time.
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { isCoordinator } from '../../lib/runtime/workers/worker-thread.js'
import type { RunResult } from '../measure.js'
import { countingJob, hammer, KEYS, mainThreadCpuMs } from './queryable-load.js'

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

const countedIn = (): number => job.metrics().operators.find((o) => o.operator === 'count')?.recordsIn ?? 0

async function measure(): Promise<RunResult> {
  await job.running
  while (countedIn() < KEYS) await new Promise((r) => setTimeout(r, 5))
  const warm = performance.now() + 200
  while (performance.now() < warm) await new Promise((r) => setTimeout(r, 10))
  const base = `${job.queryableStateUrl}/jobs/${job.id}/states/count?key=`
  const before = countedIn()
  const started = performance.now()
  const cpu = process.cpuUsage()
  const threadCpu = mainThreadCpuMs()
  const { answers, checksum } = await hammer((key) => base + key, ms)
  const threadCpuMs = mainThreadCpuMs()! - threadCpu!
  const { user, system } = process.cpuUsage(cpu)
  const elapsed = performance.now() - started
  const after = countedIn()
  await job.cancel()
  return {
    records: answers,
    output: answers,
    checksum,
    ms: elapsed,
    cpuMs: threadCpuMs,
    extra: {
      'records/s processed meanwhile': Math.round(((after - before) * 1000) / elapsed),
      'process CPU ms': Math.round((user + system) / 1000),
    },
  }
}

if (isCoordinator())
  measure().then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`)
      process.exit(0)
    },
    (error: unknown) => {
      process.stderr.write(`${String((error as Error).stack ?? error)}\n`)
      process.exit(1)
    },
  )

// Case f — queryable state: point lookups per second against a running job under load. The job keyed-counts
// an endless stream over 10,000 keys (parallelism 2) while 32 concurrent clients ask for random keys through
// the queryable-state server. Baselines: a bare node:http server answering from a Map, once with a job of
// the engine job's weight on its thread (a counting loop into that Map that yields to the event loop
// after each 4 ms slice, as the engine's dispatcher does) and once alone (the ceiling of HTTP on loopback
// in this process). Target (issue 17): engine ≥ 0.7× the bare server that carries what the engine's
// serving thread carries (2026-12-05-queryable.md says why: until then the bare server ran no job, so
// the single-thread ratio measured the job's share of the thread, which the load on the machine set).
//  - single-thread: the job, the server and the clients share one thread (each turn of the event loop
//    carries the job's work).
//  - workers: the job's subtasks on 2 worker threads, the server and the clients on the main thread; run
//    in a child process (queryable-workers-job.ts: the worker executor runs its entry module again in
//    each worker).
// Every contender times the lookups only, not the job's start. Its CPU time (the --clock cpu) is that of
// the main thread, which serves the lookups and runs the clients, in every contender (Linux
// /proc/self/task, 10 ms ticks): lookups per CPU second of the serving thread. The CPU time of the whole
// process — on workers, the job's threads included — is shown beside it.
import { execFile } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { type BenchCase, type RunResult, ratioTarget } from '../measure.js'
import {
  CLIENTS,
  countingJob,
  countingLoop,
  JOB_SLICE_MS,
  KEYS,
  lookupsDuringJob,
  timedLookups,
} from './queryable-load.js'

const runChild = promisify(execFile)
const WORKERS_JOB = join(import.meta.dirname, 'queryable-workers-job.ts')

async function singleThread(ms: number): Promise<RunResult> {
  const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent', queryableState: { port: 0 } })
  countingJob(env, () => {})
  return lookupsDuringJob(env.executeAsync('bench: queryable state'), ms)
}

async function onWorkers(ms: number): Promise<RunResult> {
  const { stdout } = await runChild(process.execPath, ['--import', 'tsx', WORKERS_JOB], {
    env: { ...process.env, SLUICE_EXECUTOR: '', QB_MS: String(ms) },
    timeout: 300_000,
  })
  return JSON.parse(stdout.trim().split('\n').pop()!) as RunResult
}

/**
 * The bare server answering from a Map; with `job`, a plain counting loop of the engine job's weight
 * ({@link countingLoop}) updates that Map on the same thread while it answers.
 */
async function bareHttp(ms: number, job: boolean): Promise<RunResult> {
  const counts = new Map<number, number>(Array.from({ length: KEYS }, (_, k) => [k, k]))
  const server = createServer((req, res) => {
    const key = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('key'))
    const body = JSON.stringify({ key, value: counts.get(key) })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  const loop = job ? countingLoop(counts) : undefined
  const before = loop?.counted ?? 0
  const run = await timedLookups((key) => `http://127.0.0.1:${port}/?key=${key}`, ms)
  const after = loop?.counted ?? 0
  loop?.stop()
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
  if (loop === undefined) return run
  return {
    ...run,
    extra: { 'records/s processed meanwhile': Math.round(((after - before) * 1000) / run.ms), ...run.extra },
  }
}

const SINGLE = 'engine: queryable-state server, job under load'
const WORKERS = 'engine on workers: job on 2 worker threads, server on the main thread'
const BARE_JOB = `bare node:http server answering from a Map, a counting loop in ${JOB_SLICE_MS} ms slices on its thread`
const BARE = 'bare node:http server answering from a Map, nothing else on its thread'

export const queryableCase: BenchCase = {
  id: 'queryable',
  title: `f) queryable state: point lookups/s from ${CLIENTS} concurrent clients against a running keyed job (10,000 keys, parallelism 2)`,
  prepare({ quick }) {
    const ms = quick ? 1_000 : 3_000
    return {
      reps: quick ? 1 : 3,
      warmup: 1,
      unit: 'messages',
      compareChecksums: false,
      contenders: [
        { name: SINGLE, role: 'engine', run: () => singleThread(ms) },
        { name: WORKERS, role: 'engine', run: () => onWorkers(ms) },
        { name: BARE_JOB, role: 'baseline', run: () => bareHttp(ms, true) },
        { name: BARE, role: 'baseline', run: () => bareHttp(ms, false) },
      ],
      notes: [
        '"messages" here are answered lookups. The job keeps counting while it answers; its rate meanwhile is shown.',
        `Each engine is held against the bare server that carries what its serving thread carries: on one thread the job takes a ${JOB_SLICE_MS} ms time slice per event-loop turn (the dispatcher's default), so the bare server gets a counting loop that yields after ${JOB_SLICE_MS} ms too; on workers the serving thread carries no job, as the bare server alone. The bare server alone on one thread is the ceiling of HTTP in this process, shown for scale.`,
        'Times and CPU times are of the lookups only. The CPU time is that of the main thread, which serves the lookups and runs the 32 clients, in every contender (10 ms ticks); "process CPU ms" is every thread of the process (on workers, the job\'s threads too).',
      ],
      targets: (s) => [
        ratioTarget(
          s,
          'f) queryable state: engine ≥ 0.7× bare node:http server, each with its job on the serving thread',
          SINGLE,
          BARE_JOB,
          0.7,
        ),
        ratioTarget(
          s,
          'f) queryable state on workers: engine ≥ 0.7× bare node:http server, no job on either serving thread',
          WORKERS,
          BARE,
          0.7,
        ),
      ],
    }
  },
}

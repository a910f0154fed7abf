// Case `workers` — the worker-thread executor against the single-thread one (issue 16). Every run is a
// child process on benchmarks/cases/workers-job.ts (the worker executor runs its entry module again in
// each worker thread, so the job cannot live in this harness); the time is the job's own, from
// `running` to its end, so neither process nor worker start-up counts.
//  - cpu: ~5 µs of JavaScript per record (render, parse and hash a 200-byte JSON document), all chained,
//    parallelism 2: single-thread vs 1, 2 and 4 worker threads. Target: 2 threads ≥ 1.7× single-thread.
//  - keyed: map, keyBy over 1,000 keys, reduce, parallelism 2: the shuffle crosses threads; the cost
//    per crossing is the difference of the per-record times.
//  - rss: a fast source (parallelism 1) into a slow sink (2 µs spin per record, parallelism 2) on other
//    threads: RSS growth stays bounded by the credits. Target: < 50 MB.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { BenchCase, Contender, RunResult, Summary, TargetCheck } from '../measure.js'

const run = promisify(execFile)
const JOB = join(import.meta.dirname, 'workers-job.ts')
const RSS_LIMIT_MB = 50
/**
 * The CPU time of all the threads of the job's process per record (worst run): on the shared, loaded
 * machine the threads do not get every core, and this tells what the executor costs apart from that.
 */
const CPU_PER_RECORD = 'CPU µs/record'

async function child(env: Record<string, string>): Promise<RunResult> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', JOB], {
    env: { ...process.env, ...env },
    timeout: 600_000,
  })
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as RunResult & { rssGrowthMB: number; cpuMs: number }
  return {
    records: r.records,
    output: r.output,
    checksum: r.checksum,
    ms: r.ms,
    cpuMs: r.cpuMs,
    extra: { 'RSS growth MB': r.rssGrowthMB, [CPU_PER_RECORD]: (r.cpuMs * 1000) / r.records },
  }
}

function contender(
  name: string,
  job: string,
  executor: string,
  threads: number,
  records: number,
  role: Contender['role'],
): Contender {
  return {
    name,
    role,
    run: () =>
      child({
        WB_JOB: job,
        WB_EXECUTOR: executor,
        WB_THREADS: String(threads),
        WB_PARALLELISM: '2',
        WB_RECORDS: String(records),
      }),
  }
}

function rateOf(s: ReadonlyMap<string, Summary>, name: string): number {
  return s.get(name)?.rate ?? Number.NaN
}

function cpuOf(s: ReadonlyMap<string, Summary>, name: string): string {
  return (s.get(name)?.extra[CPU_PER_RECORD] as number | undefined)?.toFixed(2) ?? '?'
}

export const workersCase: BenchCase = {
  id: 'workers',
  title: 'workers) the worker-thread executor vs the single-thread executor (CPU-bound, keyed shuffle, slow sink)',
  prepare({ records, quick }) {
    // the CPU-bound job costs ~5 µs a record: a quarter of the records keeps a run to a few seconds
    const cpu = Math.max(50_000, Math.floor(records / 4))
    const slow = Math.max(50_000, Math.floor(records / 5))
    return {
      reps: quick ? 2 : 3,
      warmup: 0,
      compareChecksums: false,
      contenders: [
        contender('cpu: single-thread, parallelism 2', 'cpu', 'single-thread', 1, cpu, 'baseline'),
        contender('cpu: workers, 1 thread', 'cpu', 'workers', 1, cpu, 'engine'),
        contender('cpu: workers, 2 threads', 'cpu', 'workers', 2, cpu, 'engine'),
        contender('cpu: workers, 4 threads', 'cpu', 'workers', 4, cpu, 'engine'),
        contender('keyed: single-thread, parallelism 2', 'keyed', 'single-thread', 1, records, 'engine'),
        contender('keyed: workers, 2 threads', 'keyed', 'workers', 2, records, 'engine'),
        contender('rss: workers, 2 threads, slow sink', 'rss', 'workers', 2, slow, 'engine'),
      ],
      notes: [
        `cpu runs ${cpu} records, keyed ${records}, rss ${slow}; times are the job's own (running → end), in a child process per run.`,
        'cost per crossing = 1/rate(keyed, workers) − 1/rate(keyed, single-thread): what a record pays for crossing a thread (the keyed shuffle crosses threads for about half the records at 2 threads).',
      ],
      targets(s): TargetCheck[] {
        const single = rateOf(s, 'cpu: single-thread, parallelism 2')
        const two = rateOf(s, 'cpu: workers, 2 threads')
        const keyedSingle = rateOf(s, 'keyed: single-thread, parallelism 2')
        const keyedWorkers = rateOf(s, 'keyed: workers, 2 threads')
        const growth = s.get('rss: workers, 2 threads, slow sink')?.extra['RSS growth MB'] as number
        const sameCpu =
          new Set([...s.values()].filter((x) => x.name.startsWith('cpu')).map((x) => x.checksum)).size === 1
        const sameKeyed =
          new Set([...s.values()].filter((x) => x.name.startsWith('keyed')).map((x) => x.checksum)).size === 1
        return [
          {
            label: 'workers) cpu: 2 worker threads ≥ 1.7× the single-thread executor',
            pass: two >= 1.7 * single,
            actual: `${(two / single).toFixed(2)}× (1 → 2 → 4 threads: ${['1 thread', '2 threads', '4 threads'].map((t) => `${(rateOf(s, `cpu: workers, ${t}`) / single).toFixed(2)}×`).join(' → ')}); CPU per record ${cpuOf(s, 'cpu: workers, 2 threads')} µs on 2 threads vs ${cpuOf(s, 'cpu: single-thread, parallelism 2')} µs single-thread`,
          },
          {
            label: 'workers) keyed: records/s across threads, and the cost per record of a crossing',
            pass: Number.isFinite(keyedWorkers),
            actual: `${Math.round(keyedWorkers)} vs ${Math.round(keyedSingle)} records/s single-thread; ${((1 / keyedWorkers - 1 / keyedSingle) * 1e6).toFixed(2)} µs per record`,
          },
          {
            label: `workers) rss: RSS growth < ${RSS_LIMIT_MB} MB with a slow sink across threads`,
            pass: growth < RSS_LIMIT_MB,
            actual: `${growth?.toFixed(1)} MB (worst run)`,
          },
          {
            label: 'workers) same checksums on both executors',
            pass: sameCpu && sameKeyed,
            actual: `cpu ${sameCpu}, keyed ${sameKeyed}`,
          },
        ]
      },
    }
  },
}

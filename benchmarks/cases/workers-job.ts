// The job file of benchmark case `workers`, run in a child process per measured run (the worker
// executor runs its entry module again in every worker thread, so the job cannot live in the harness).
// WB_JOB: cpu | keyed | rss; WB_EXECUTOR: single-thread | workers; WB_THREADS; WB_PARALLELISM; WB_RECORDS.
// Prints one JSON line (coordinator only): records, output, checksum, ms (from `running` to the end,
// so that neither process nor worker start-up counts), the CPU time of all its threads meanwhile, and
// the RSS growth in MB while it ran.
import { appendFileSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { keyBy } from '../../lib/operators/key-by.js'
import { map } from '../../lib/operators/map.js'
import { reduce } from '../../lib/operators/reduce.js'
import type { Sink, SinkWriter } from '../../lib/runtime/sink.js'
import { isCoordinator } from '../../lib/runtime/workers/worker-thread.js'
import { RssSampler } from '../measure.js'

const job = process.env.WB_JOB ?? 'cpu'
const workers = process.env.WB_EXECUTOR === 'workers'
const threads = Number(process.env.WB_THREADS ?? 2)
const parallelism = Number(process.env.WB_PARALLELISM ?? 2)
const records = Number(process.env.WB_RECORDS ?? 500_000)
/** Where each sink subtask appends its count and sum when it closes: the only way out of a worker. */
const totals = join(tmpdir(), `sluice-bench-workers-${process.env.WB_RUN ?? process.pid}.jsonl`)

/** A small JSON document per record: about 200 bytes, parsed and hashed by the CPU-bound job. */
function document(i: number): string {
  return `{"id":${i},"user":"u${i % 977}","tags":["a","bb","ccc"],"amount":${(i % 1000) / 10},"items":[{"sku":${i % 31},"n":2},{"sku":${i % 17},"n":1}],"note":"order ${i}"}`
}

/** ~5 µs of JavaScript: parse the document and FNV-1a-hash its text and fields. */
function parseAndHash(text: string): number {
  const doc = JSON.parse(text) as { id: number; user: string; amount: number; items: { sku: number; n: number }[] }
  let h = 0x811c9dc5
  for (let round = 0; round < 3; round++)
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  for (const item of doc.items) h = Math.imul(h ^ (item.sku * 31 + item.n), 0x01000193)
  return ((h ^ doc.id) >>> 0) % 1_000_003
}

/** Counts and sums what reaches it; writes the totals at close. A slow sink spins `spinNs` per record. */
class TotalsSink implements Sink<number> {
  readonly name = 'totals'
  readonly guarantee = 'at-least-once' as const
  constructor(private readonly spinNs = 0) {}
  createWriter(): SinkWriter<number> {
    let count = 0
    let sum = 0
    const spinNs = this.spinNs
    return {
      write(value) {
        count++
        sum = (sum + value) % 1_000_000_007
        if (spinNs > 0) {
          const until = process.hrtime.bigint() + BigInt(spinNs)
          while (process.hrtime.bigint() < until) {}
        }
      },
      close() {
        appendFileSync(totals, `${JSON.stringify({ count, sum })}\n`)
      },
    }
  }
}

const env = StreamEnvironment.create({
  parallelism,
  logLevel: 'silent',
  executor: workers ? { kind: 'workers', threads } : { kind: 'single-thread' },
})
const numbers = env.fromSequence(0, records - 1, { uid: 'numbers' })
if (job === 'cpu')
  numbers
    .pipe(map(document, { uid: 'render' }), map(parseAndHash, { uid: 'parse-and-hash' }))
    .sinkTo(new TotalsSink(), { uid: 'out' })
else if (job === 'keyed')
  numbers
    .pipe(
      map((x: number): [number, number] => [(x + 1) % 1000, 1], { uid: 'pair' }),
      keyBy((p: [number, number]) => p[0]),
      // a running count per key: what reaches the sink does not depend on how the sources interleave
      reduce((a: [number, number], b: [number, number]): [number, number] => [a[0], a[1] + b[1]], {
        uid: 'count-per-key',
      }),
      map((p: [number, number]) => p[1], { uid: 'count' }),
    )
    .sinkTo(new TotalsSink(), { uid: 'out' })
// a fast source on one thread, a slow sink on the others: records queue only as far as credits allow
else
  env
    .fromSequence(0, records - 1, { uid: 'fast', parallelism: 1 })
    .rebalance()
    .sinkTo(new TotalsSink(2_000), { uid: 'slow', parallelism })

if (isCoordinator()) rmSync(totals, { force: true })
const handle = env.executeAsync(`workers bench ${job}`)
await handle.running
const rss = new RssSampler(50)
const started = performance.now()
// the CPU time of every thread of the process (coordinator and workers) while the job ran: on a loaded
// machine it tells the engine's cost per record apart from the cores the threads were given
const cpuAtStart = process.cpuUsage()
await handle.result
const ms = performance.now() - started
const cpu = process.cpuUsage(cpuAtStart)
const { maxGrowthMB } = rss.stop()
if (isCoordinator()) {
  const parts = readFileSync(totals, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { count: number; sum: number })
  rmSync(totals, { force: true })
  const output = parts.reduce((n, p) => n + p.count, 0)
  const checksum = parts.reduce((n, p) => (n + p.sum) % 1_000_000_007, 0)
  const cpuMs = (cpu.user + cpu.system) / 1000
  process.stdout.write(`${JSON.stringify({ records, output, checksum, ms, cpuMs, rssGrowthMB: maxGrowthMB })}\n`)
}

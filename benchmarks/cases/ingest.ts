// Ingestion endpoint cases (issue 15), all on loopback, the clients in the same process as the server:
// - tcp-server-source: a client writes n lines `<i>\n` to the server at once. The engine: a job with
//   TcpServerSource (lines, maxBufferedRecords 1024) into a counting sink. The baseline: a bare `net`
//   server cutting the same lines with indexOf and counting them. Two shapes, the same for both:
//   - steady (the target): a TCP source is a long-running server, so its throughput is what a running job
//     sustains. Each contender runs in a fresh child process of its own (tcp-steady.ts,
//     tcp-steady-server.ts: no shared heap, no code another contender shaped), its job or server started
//     once, STEADY_WARMUP_BATCHES untimed batches, then one timed batch of n lines per run of the harness,
//     each over a new client connection, timed in the child from the connect to the n-th line counted.
//   - job start included: in this process, interleaved, a new job (a new server) per run, timed from the
//     job's start (the server's listen) to the n-th record, then cancelled (closed). It bills job setup and
//     V8 compiling the engine's per-turn functions again for every new job, and the two contenders share
//     the C heap (benchmarks/results/2026-12-05-tcp-shared-read-buffer.md).
// - http-server-source: CONCURRENCY keep-alive clients POST m requests of one JSON record each. The
//   engine: a job with HttpServerSource (ackMode 'accepted', 202 when buffered) into a counting sink,
//   timed from the job's start until every response came back and every record was counted. The
//   baseline: a bare `node:http` server reading the body, JSON.parse, count, 202.
// Target (issue 15): engine ≥ 0.8 × the baseline for each.
import { CountingSink } from '../counting-sink.js'
import { createServer as createHttpServer } from 'node:http'
import { type AddressInfo, createServer as createNetServer } from 'node:net'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { HttpServerSource } from '../../lib/connectors/http-server/index.js'
import { TcpServerSource } from '../../lib/connectors/tcp-server/index.js'
import { type BenchCase, type RunResult, type Summary, type TargetCheck, formatInt, hotPhase } from '../measure.js'
import { linesOf, send } from './tcp-lines.js'
import { SteadyTcpContender } from './tcp-steady.js'

const TARGET = 0.8
const CONCURRENCY = 16

/** Untimed batches each steady-state child runs before its first timed one (the harness's warm-up runs follow). */
const STEADY_WARMUP_BATCHES = 3
const STEADY_ENGINE = 'TcpServerSource, steady (one job)'
const STEADY_BASELINE = 'net server, steady (one server)'
const PER_JOB_ENGINE = 'TcpServerSource, job start included'
const PER_JOB_BASELINE = 'net server, server start included'

async function engineTcp(n: number, data: Buffer): Promise<RunResult> {
  const sink = new CountingSink((value: number) => value, n)
  const source = new TcpServerSource<number>({ decoder: (frame) => Number(frame.toString('latin1')) })
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env.fromSource(source).sinkTo(sink)
  const phase = hotPhase()
  const job = env.executeAsync('bench: tcp server source')
  send((await source.listening()).port, data)
  await sink.reached
  const time = phase.end()
  await job.cancel()
  return { records: n, output: sink.output, checksum: sink.checksum, ...time }
}

async function rawTcp(n: number, data: Buffer): Promise<RunResult> {
  const phase = hotPhase()
  let output = 0
  let checksum = 0
  let finish!: () => void
  const finished = new Promise<void>((resolve) => {
    finish = resolve
  })
  const server = createNetServer((socket) => {
    let rest = ''
    socket.on('data', (chunk: Buffer) => {
      const text = rest + chunk.toString('latin1')
      let start = 0
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        checksum += Number(text.slice(start, end))
        start = end + 1
        if (++output === n) finish()
      }
      rest = text.slice(start)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  send((server.address() as AddressInfo).port, data)
  await finished
  const time = phase.end()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return { records: n, output, checksum, ...time }
}

/** CONCURRENCY keep-alive clients POST the numbers 0 … m-1, one per request; every answer must be `status`. */
async function post(url: string, m: number, status: number): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < m) {
      const i = next++
      const res = await fetch(url, { method: 'POST', body: String(i) })
      await res.arrayBuffer()
      if (res.status !== status) throw new Error(`request ${i}: ${res.status}`)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
}

async function engineHttp(m: number): Promise<RunResult> {
  const sink = new CountingSink((value: number) => value, m)
  const source = new HttpServerSource<number>({ maxConnections: CONCURRENCY * 2 })
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env.fromSource(source).sinkTo(sink)
  const phase = hotPhase()
  const job = env.executeAsync('bench: http server source')
  await post((await source.listening()).url, m, 202)
  await sink.reached
  const time = phase.end()
  await job.cancel()
  return { records: m, output: sink.output, checksum: sink.checksum, ...time }
}

async function rawHttp(m: number): Promise<RunResult> {
  const phase = hotPhase()
  let output = 0
  let checksum = 0
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      checksum += JSON.parse(Buffer.concat(chunks).toString('utf8')) as number
      output++
      const body = '{"records":1}'
      res.writeHead(202, { 'Content-Type': 'application/json', 'Content-Length': body.length })
      res.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  await post(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, m, 202)
  const time = phase.end()
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return { records: m, output, checksum, ...time }
}

function targets(s: ReadonlyMap<string, Summary>, label: string): TargetCheck[] {
  const engine = [...s.values()].find((x) => x.role === 'engine')!
  const base = [...s.values()].find((x) => x.role === 'baseline')!
  const ratio = engine.rate / base.rate
  return [
    {
      label: `${label}: engine ≥ ${TARGET} × ${base.name}`,
      pass: ratio >= TARGET,
      actual: `${ratio.toFixed(2)}× (${formatInt(engine.rate)} vs ${formatInt(base.rate)} records/s)`,
    },
  ]
}

/** Issue 15's target on the steady state; the per-job ratio is reported beside it, not checked. */
function tcpTargets(s: ReadonlyMap<string, Summary>): TargetCheck[] {
  const engine = s.get(STEADY_ENGINE)!
  const base = s.get(STEADY_BASELINE)!
  const ratio = engine.rate / base.rate
  const perJob = s.get(PER_JOB_ENGINE)
  const perJobBase = s.get(PER_JOB_BASELINE)
  const alsoPerJob =
    perJob === undefined || perJobBase === undefined
      ? ''
      : `; job start included: ${(perJob.rate / perJobBase.rate).toFixed(2)}×, not checked`
  return [
    {
      label: `tcp-server-source: engine ≥ ${TARGET} × net server (steady state, one job)`,
      pass: ratio >= TARGET,
      actual: `${ratio.toFixed(2)}× (${formatInt(engine.rate)} vs ${formatInt(base.rate)} records/s${alsoPerJob})`,
    },
  ]
}

export const tcpServerSourceCase: BenchCase = {
  id: 'tcp-server-source',
  title: 'TCP server source: one client writes n lines; TcpServerSource vs a bare net server cutting lines',
  prepare({ quick }) {
    const n = quick ? 200_000 : 1_000_000
    const data = linesOf(n)
    const warmupBatches = quick ? 1 : STEADY_WARMUP_BATCHES
    const steadyEngine = new SteadyTcpContender('engine', n, warmupBatches)
    const steadyBaseline = new SteadyTcpContender('baseline', n, warmupBatches)
    return {
      reps: quick ? 3 : 15,
      contenders: [
        { name: STEADY_ENGINE, role: 'engine', run: () => steadyEngine.batch() },
        { name: STEADY_BASELINE, role: 'baseline', run: () => steadyBaseline.batch() },
        { name: PER_JOB_ENGINE, role: 'engine', run: () => engineTcp(n, data) },
        { name: PER_JOB_BASELINE, role: 'baseline', run: () => rawTcp(n, data) },
      ],
      targets: tcpTargets,
      notes: [
        `${formatInt(n)} lines per run on loopback, the client in the same process as the server.`,
        `steady: each contender in a fresh child process of its own, its job or server started once, ${warmupBatches} untimed batch(es) there, then one batch of ${formatInt(n)} lines per run over a new client connection, timed (wall and CPU of the child) from the connect to the last line counted; no collection forced between batches. The target is checked on these two.`,
        'job start included: in this process, interleaved, a new job (a new server) per run, its setup timed; reported, not checked.',
      ],
      teardown: async () => {
        await Promise.all([steadyEngine.close(), steadyBaseline.close()])
      },
    }
  },
}

export const httpServerSourceCase: BenchCase = {
  id: 'http-server-source',
  title: `HTTP server source, accepted mode: ${CONCURRENCY} keep-alive clients POST one JSON record per request`,
  prepare({ quick }) {
    const m = quick ? 5_000 : 20_000
    return {
      contenders: [
        { name: 'HttpServerSource', role: 'engine', run: () => engineHttp(m) },
        { name: 'node:http server', role: 'baseline', run: () => rawHttp(m) },
      ],
      targets: (s) => targets(s, 'http-server-source'),
      notes: [
        `${formatInt(m)} requests per run on loopback, the fetch clients in the same process (they cost most of the time for both); the engine's job setup is timed.`,
      ],
    }
  },
}

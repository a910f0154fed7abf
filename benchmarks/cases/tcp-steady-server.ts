// The steady-state side of the tcp-server-source case (benchmarks/cases/ingest.ts), in a fresh child
// process per contender (forked by tcp-steady.ts with an IPC channel): a TCP source is a long-running
// server, so its throughput is what a running job sustains. The contender's server starts once — a job
// with TcpServerSource into a counting sink, or a bare `net` server cutting lines — then runs
// TS_WARMUP_BATCHES untimed batches and answers 'ready'; every 'batch' request is TS_LINES lines over a new
// client connection (in this process, as in the per-run contenders), timed on both clocks from the
// connect to the batch's last line counted, answered with a {@link SteadyBatch}. No collection is forced
// between batches: a batch pays for the garbage of about one batch, as a running server does.
// TS_CONTENDER: engine | baseline.
import { type AddressInfo, createServer } from 'node:net'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { TcpServerSource } from '../../lib/connectors/tcp-server/index.js'
import type { Sink } from '../../lib/runtime/sink.js'
import { hotPhase } from '../measure.js'
import { linesOf, send } from './tcp-lines.js'
import type { SteadyReply, SteadyRequest } from './tcp-steady-batch.js'
import { envWholeNumber } from '../env-number.js'

/** Where a contender counts lines: the batch ends at its `target`-th line. */
class BatchCount {
  output = 0
  checksum = 0
  target = Number.POSITIVE_INFINITY
  private finish: () => void = () => {}

  /** Resets the counts; settles when `n` lines were counted. */
  expect(n: number): Promise<void> {
    this.output = 0
    this.checksum = 0
    this.target = n
    return new Promise((resolve) => {
      this.finish = resolve
    })
  }

  reached(): void {
    this.finish()
  }
}

/** The engine's sink: counts into a {@link BatchCount} as `CountingSink` counts (a sum, a compare per record). */
class BatchSink implements Sink<number> {
  readonly name = 'count'
  readonly guarantee = 'at-least-once' as const
  constructor(private readonly count: BatchCount) {}

  createWriter() {
    const count = this.count
    return {
      write: (value: number) => {
        count.checksum += value
        if (++count.output === count.target) count.reached()
      },
      close() {},
    }
  }
}

/** A contender started once: its port, and how it stops. */
interface Started {
  readonly port: number
  stop(): Promise<void>
}

async function startEngine(count: BatchCount): Promise<Started> {
  const source = new TcpServerSource<number>({ decoder: (frame) => Number(frame.toString('latin1')) })
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env.fromSource(source).sinkTo(new BatchSink(count))
  const job = env.executeAsync('bench: tcp server source, steady')
  const { port } = await source.listening()
  return { port, stop: () => job.cancel() }
}

/** The bare server: the per-run baseline's data handler, counting into `count`. */
async function startBaseline(count: BatchCount): Promise<Started> {
  const server = createServer((socket) => {
    let rest = ''
    socket.on('data', (chunk: Buffer) => {
      const text = rest + chunk.toString('latin1')
      let start = 0
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        count.checksum += Number(text.slice(start, end))
        start = end + 1
        if (++count.output === count.target) count.reached()
      }
      rest = text.slice(start)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** One batch: `data` over a new connection until its `n`-th line is counted; the client's close is awaited untimed. */
async function batch(started: Started, count: BatchCount, n: number, data: Buffer): Promise<SteadyReply> {
  const counted = count.expect(n)
  const phase = hotPhase()
  const client = send(started.port, data)
  await counted
  const time = phase.end()
  if (!client.closed) await new Promise((resolve) => client.once('close', resolve))
  return { kind: 'batch', records: n, output: count.output, checksum: count.checksum, ...time }
}

function reply(message: SteadyReply): void {
  process.send!(message)
}

const contender = process.env.TS_CONTENDER
if (contender !== 'engine' && contender !== 'baseline')
  throw new Error(`TS_CONTENDER: expected engine or baseline, got ${contender}`)
const lines = envWholeNumber('TS_LINES', 1_000_000)
const warmupBatches = envWholeNumber('TS_WARMUP_BATCHES', 3)
const data = linesOf(lines)
const count = new BatchCount()
const started = contender === 'engine' ? await startEngine(count) : await startBaseline(count)
for (let i = 0; i < warmupBatches; i++) await batch(started, count, lines, data)
process.on('message', (request: SteadyRequest) => {
  const answer =
    request.kind === 'batch'
      ? batch(started, count, lines, data).then(reply)
      : started.stop().then(() => process.disconnect())
  answer.catch((error: unknown) => {
    reply({ kind: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) })
    process.exit(1)
  })
})
reply({ kind: 'ready' })

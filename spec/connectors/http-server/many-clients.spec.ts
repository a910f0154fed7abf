import { Agent, request } from 'node:http'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import { HttpServerSource } from '../../../lib/connectors/http-server/index.js'
import { asyncMap } from '../../../lib/operators/async-map.js'
import { sharedRecord } from '../../support/shared-flags.js'
import { ThreadHeapProbe } from '../../support/thread-heap-probe.js'
import { waitFor } from '../../support/wait-for.js'

const Load = suite('http server source under many clients')

const CLIENTS = 300
const REQUESTS = 8
const RECORDS = 10
/** Bytes per NDJSON line: 300 × 8 × 10 × 2 KiB ≈ 47 MiB sent. */
const RECORD_BYTES = 2048
const MAX_BUFFERED = 256
/** Heap samples over the load, one every tenth of its records (each a full collection), after the baseline. */
const HEAP_SAMPLES = 10

interface Line {
  readonly id: string
  readonly pad: string
}

/** POSTs one body on the keep-alive agent; resolves with the status and whether the socket was reused. */
function post(agent: Agent, port: number, body: string): Promise<{ status: number; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, port, host: '127.0.0.1', method: 'POST', path: '/' }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** One client: `REQUESTS` requests one after the other, each sent again after a 503. */
async function client(agent: Agent, port: number, c: number): Promise<{ reused: number; retried: number }> {
  let reused = 0
  let retried = 0
  const pad = 'y'.repeat(RECORD_BYTES - 40)
  for (let r = 0; r < REQUESTS; r++) {
    let body = ''
    for (let i = 0; i < RECORDS; i++) body += `${JSON.stringify({ id: `${c}:${r}:${i}`, pad })}\n`
    for (;;) {
      const answer = await post(agent, port, body)
      if (answer.reused) reused++
      if (answer.status === 202) break
      assert.is(answer.status, 503, 'only 202 or 503')
      retried++
    }
  }
  return { reused, retried }
}

Load(
  '300 keep-alive clients into a slow job: every record arrives once, the buffer and the heap stay bounded',
  async () => {
    const source = new HttpServerSource<Line>({
      format: 'ndjson',
      maxBufferedRecords: MAX_BUFFERED,
      whenFull: 'hold',
      holdTimeoutMs: 60_000,
      maxBodyBytes: 64 * 1024,
    })
    const seen = new Set<string>()
    let duplicates = 0
    // measured in the thread that runs the reader (a worker on the worker executor), by the job's function
    const heap = new ThreadHeapProbe((CLIENTS * REQUESTS * RECORDS) / HEAP_SAMPLES)
    const stats = sharedRecord({ records: 0 })
    const env = StreamEnvironment.create({ logLevel: 'silent' })
    env
      .fromSource(source, { uid: 'posts' })
      // a slow job: each record waits for a turn of the event loop
      .pipe(
        asyncMap(
          (line: Line) => {
            heap.onRecord()
            // this thread's copy of the source is the one whose reader takes the requests
            stats.records = source.stats.records
            return new Promise<string>((resolve) => setImmediate(resolve, line.id))
          },
          { capacity: 8 },
        ),
      )
      .sinkTo(
        new CallbackSink((id: string) => {
          if (seen.has(id)) duplicates++
          seen.add(id)
        }),
      )
    const job = env.executeAsync('many http clients')
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS })
    try {
      // the port its reader bound, from the job's metrics: on the worker executor the reader listens in a
      // worker thread, and this thread's copy of the source is never started
      const listening = (): number =>
        Number(job.metrics().details.find((d) => d.operator === 'posts')?.metrics.listeningPort ?? 0)
      await waitFor(() => listening() > 0, { timeoutMs: 10_000, description: 'the source listens' })
      const port = listening()
      await job.running
      // one record before the load: the heap probe's baseline, in the reader's thread
      assert.is((await post(agent, port, `${JSON.stringify({ id: 'warm-up', pad: '' })}\n`)).status, 202)
      await waitFor(() => seen.has('warm-up') && heap.samples > 0, {
        timeoutMs: 10_000,
        description: 'the warm-up record',
      })
      seen.delete('warm-up')
      const clients = Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(agent, port, c)))
      const total = CLIENTS * REQUESTS * RECORDS
      let mostBuffered = 0
      await waitFor(
        () => {
          const detail = job.metrics().details.find((d) => d.metrics.connector === 'http-server')
          mostBuffered = Math.max(mostBuffered, Number(detail?.metrics.bufferedRecords ?? 0))
          return seen.size === total
        },
        { timeoutMs: 120_000, intervalMs: 20, description: () => `${seen.size} of ${total} records` },
      )
      const answers = await clients
      assert.is(duplicates, 0)
      // the warm-up record and the load's
      assert.is(stats.records, total + 1)
      assert.is(heap.samples, 1 + HEAP_SAMPLES, 'the baseline and a sample every tenth of the load')
      assert.ok(mostBuffered <= MAX_BUFFERED, `at most ${mostBuffered} records buffered`)
      const reused = answers.reduce((n, a) => n + a.reused, 0)
      assert.ok(reused >= CLIENTS * (REQUESTS - 1), `${reused} requests on a reused keep-alive connection`)
      const sentBytes = total * RECORD_BYTES
      // what may be live at once, whatever the number of requests: the buffer, and per client one
      // request in four forms (the client's body, the server's chunks and body, the parsed records)
      const bound = MAX_BUFFERED * RECORD_BYTES + CLIENTS * RECORDS * RECORD_BYTES * 4
      assert.ok(bound < sentBytes, 'the bound is below what was sent')
      const mostHeap = heap.growthBytes
      assert.ok(
        mostHeap < bound,
        `heap grew by ${(mostHeap / 2 ** 20).toFixed(1)} MiB while ${(sentBytes / 2 ** 20).toFixed(0)} MiB were sent`,
      )
      console.log(
        `  (most buffered ${mostBuffered} records, heap growth ${(mostHeap / 2 ** 20).toFixed(1)} MiB in ${heap.samples} samples, ${reused} reused, ${answers.reduce((n, a) => n + a.retried, 0)} retried)`,
      )
    } finally {
      agent.destroy()
      await job.cancel()
    }
  },
)

Load.run()

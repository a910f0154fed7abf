import { connect, type Socket } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import { TcpServerSource } from '../../../lib/connectors/tcp-server/index.js'
import { asyncMap } from '../../../lib/operators/async-map.js'
import { sharedRecord } from '../../support/shared-flags.js'
import { ThreadHeapProbe } from '../../support/thread-heap-probe.js'
import { waitFor } from '../../support/wait-for.js'

const Load = suite('tcp server source under many clients')

const CLIENTS = 300
const LINES = 400
/** Bytes per line with its '\n': 300 × 400 × 1 KiB = 120 MiB sent, far more than the bound below. */
const LINE_BYTES = 1024
const MAX_BUFFERED = 256
/** Heap samples over the load, one every tenth of its lines (each a full collection), after the baseline. */
const HEAP_SAMPLES = 10

/** Writes `LINES` lines, 16 per write, waiting for 'drain' when the socket's buffer is full; ends the socket. */
async function sendLines(socket: Socket, client: number): Promise<void> {
  const pad = 'x'.repeat(LINE_BYTES - 24)
  for (let i = 0; i < LINES; ) {
    let chunk = ''
    for (const end = Math.min(LINES, i + 16); i < end; i++)
      chunk += `${String(client).padStart(4, '0')}:${String(i).padStart(6, '0')}:${pad}\n`.slice(-LINE_BYTES)
    if (!socket.write(chunk)) await new Promise<void>((resolve) => socket.once('drain', resolve))
  }
  await new Promise<void>((resolve) => socket.end(resolve))
}

Load(
  '300 connections pushing 120 MiB into a slow job: every line arrives once, the buffer and the heap stay bounded',
  async () => {
    const source = new TcpServerSource<string>({ maxBufferedRecords: MAX_BUFFERED, maxFrameBytes: 4096 })
    const seen = new Set<string>()
    let duplicates = 0
    // measured in the thread that runs the reader (a worker on the worker executor), by the job's function
    const heap = new ThreadHeapProbe((CLIENTS * LINES) / HEAP_SAMPLES)
    const stats = sharedRecord({ connections: 0, pauses: 0 })
    const env = StreamEnvironment.create({ logLevel: 'silent' })
    env
      .fromSource(source, { uid: 'lines' })
      // a slow job: each record waits for a turn of the event loop
      .pipe(
        asyncMap(
          (line: string) => {
            heap.onRecord()
            // this thread's copy of the source is the one whose reader holds the connections
            stats.connections = source.stats.connections
            stats.pauses = source.stats.pauses
            return new Promise<string>((resolve) => setImmediate(resolve, line.slice(0, 11)))
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
    const job = env.executeAsync('many tcp clients')
    try {
      // the port its reader bound, from the job's metrics: on the worker executor the reader listens in a
      // worker thread, and this thread's copy of the source is never started
      const listening = (): number =>
        Number(job.metrics().details.find((d) => d.operator === 'lines')?.metrics.listeningPort ?? 0)
      await waitFor(() => listening() > 0, { timeoutMs: 10_000, description: 'the source listens' })
      const port = listening()
      await job.running
      // one line before the load: the heap probe's baseline, in the reader's thread
      const first = await new Promise<Socket>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => resolve(socket))
        socket.once('error', reject)
      })
      await new Promise<void>((resolve) => first.end('warm-up\n', resolve))
      await waitFor(() => seen.has('warm-up') && heap.samples > 0, {
        timeoutMs: 10_000,
        description: 'the warm-up line',
      })
      seen.delete('warm-up')
      const sockets = await Promise.all(
        Array.from(
          { length: CLIENTS },
          () =>
            new Promise<Socket>((resolve, reject) => {
              const socket = connect(port, '127.0.0.1', () => resolve(socket))
              socket.once('error', reject)
            }),
        ),
      )
      const sent = Promise.all(sockets.map((socket, c) => sendLines(socket, c)))
      let mostBuffered = 0
      await waitFor(
        () => {
          const detail = job.metrics().details.find((d) => d.metrics.connector === 'tcp-server')
          mostBuffered = Math.max(mostBuffered, Number(detail?.metrics.bufferedRecords ?? 0))
          return seen.size === CLIENTS * LINES
        },
        { timeoutMs: 120_000, intervalMs: 20, description: () => `${seen.size} of ${CLIENTS * LINES} lines` },
      )
      await sent
      assert.is(duplicates, 0)
      // the warm-up connection and the load's
      assert.is(stats.connections, CLIENTS + 1)
      assert.ok(stats.pauses > 0, 'the full buffer paused the connections')
      assert.is(heap.samples, 1 + HEAP_SAMPLES, 'the baseline and a sample every tenth of the load')
      const sentBytes = CLIENTS * LINES * LINE_BYTES
      // records beyond the limit come only from chunks read before every socket stopped reading
      assert.ok(mostBuffered <= MAX_BUFFERED + CLIENTS * 64, `at most ${mostBuffered} records buffered`)
      const mostHeap = heap.growthBytes
      assert.ok(
        mostHeap < sentBytes / 8,
        `heap grew by ${(mostHeap / 2 ** 20).toFixed(1)} MiB while ${sentBytes / 2 ** 20} MiB were sent`,
      )
      console.log(
        `  (most buffered ${mostBuffered} records, heap growth ${(mostHeap / 2 ** 20).toFixed(1)} MiB in ${heap.samples} samples, ${stats.pauses} pauses)`,
      )
    } finally {
      await job.cancel()
    }
  },
)

Load.run()

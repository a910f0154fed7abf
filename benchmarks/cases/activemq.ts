// ActiveMQ cases over STOMP, on the machine's broker (127.0.0.1:61613; SLUICE_STOMP_HOST/PORT override),
// same run, same broker:
// - activemq-source: n persistent messages of SIZE bytes wait in a queue (sent before the timing starts);
//   the engine reads them with ActiveMQSource (at-least-once: client-individual ACKs when a checkpoint
//   completes, every CHECKPOINT_MS) into a counting sink and is timed until every message is acknowledged;
//   the baseline is @stomp/stompjs alone subscribing with the same prefetch and ACKing each message.
// - activemq-sink: the engine sends n records of SIZE bytes with ActiveMQSink (persistent, a receipt per
//   message, every receipt awaited on each barrier and at the end); the baseline is stompjs alone sending
//   the same messages with a receipt each and the same window of unreceipted messages.
// Both contenders use the same STOMP connection setup (stompjs over @stomp/tcp-wrapper, Nagle off).
// n is the case's own (60,000; 10,000 with --quick). Target (issue 6): engine ≥ 0.8 × the baseline.
import { queueSourceRun } from '../queue-source-run.js'
import type { IFrame, IMessage } from '@stomp/stompjs'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { ActiveMQSink, type ActiveMQMessage, ActiveMQSource } from '../../lib/connectors/activemq/index.js'
import { closeStomp, openStomp, type StompSession } from '../../lib/connectors/activemq/connection.js'
import { connectionRetry } from '../../lib/connectors/base/retry-options.js'
import { type BenchCase, type RunResult, formatInt, ratioTargets, hotPhase } from '../measure.js'

const HOST = process.env.SLUICE_STOMP_HOST ?? '127.0.0.1'
const PORT = Number(process.env.SLUICE_STOMP_PORT ?? 61613)
const SIZE = 128
/** The source's default. */
const PREFETCH = 1000
const WINDOW = 1024
const CHECKPOINT_MS = 10
/** The sink waits for every receipt on each barrier: a second engine contender checkpoints less often. */
const SINK_CHECKPOINT_MS = 100
const TARGET = 0.8
/** One fixed queue: every run reads back what it sent. */
const DESTINATION = '/queue/sluice-bench-activemq'
const connection = { host: HOST, port: PORT }

const payload = (i: number): string => String(i).padEnd(SIZE, '.')
const numberOf = (body: Buffer | string): number =>
  Number.parseInt(typeof body === 'string' ? body.slice(0, 12) : body.toString('latin1', 0, 12), 10)

function session(): Promise<StompSession> {
  return openStomp({
    host: HOST,
    port: PORT,
    connectHeaders: {},
    heartbeatMs: 0,
    retry: connectionRetry('bench', { retry: { maxRetries: 0 } }),
  })
}

/** Sends n messages with a receipt on each, at most WINDOW unreceipted: the baseline sink, and the filler. */
async function send(s: StompSession, n: number): Promise<void> {
  let receipted = 0
  let wake: (() => void) | undefined
  s.client.onUnhandledReceipt = (_frame: IFrame) => {
    receipted++
    wake?.()
  }
  let sent = 0
  while (receipted < n) {
    while (sent < n && sent - receipted < WINDOW) {
      s.client.publish({
        destination: DESTINATION,
        body: payload(sent),
        headers: { persistent: 'true', receipt: String(++sent) },
      })
    }
    await new Promise<void>((resolve) => {
      wake = () => {
        if (receipted === n || sent - receipted <= WINDOW >> 1) resolve()
      }
    })
  }
}

/** Reads (and ACKs) n messages; returns their count and checksum. */
async function read(s: StompSession, n: number): Promise<{ output: number; checksum: number }> {
  let output = 0
  let checksum = 0
  let unsubscribe: (() => void) | undefined
  await new Promise<void>((resolve) => {
    if (n === 0) return resolve()
    const sub = s.client.subscribe(
      DESTINATION,
      (m: IMessage) => {
        output++
        checksum += numberOf(m.body)
        m.ack()
        if (output === n) resolve()
      },
      { ack: 'client-individual', 'activemq.prefetchSize': String(PREFETCH) },
    )
    unsubscribe = () => sub.unsubscribe()
  })
  unsubscribe?.()
  return { output, checksum }
}

async function withSession<T>(work: (s: StompSession) => Promise<T>): Promise<T> {
  const s = await session()
  try {
    return await work(s)
  } finally {
    await closeStomp(s)
  }
}

/** The engine reading n messages with checkpoints every `checkpointMs` (see {@link queueSourceRun}). */
async function engineSource(n: number, checkpointMs = CHECKPOINT_MS): Promise<RunResult> {
  await withSession((s) => send(s, n))
  const source = new ActiveMQSource({ ...connection, destination: DESTINATION, prefetch: PREFETCH })
  return queueSourceRun('activemq', source, (m: ActiveMQMessage) => numberOf(m.body), n, checkpointMs)
}

async function rawSource(n: number): Promise<RunResult> {
  await withSession((s) => send(s, n))
  const phase = hotPhase()
  const counted = await withSession((s) => read(s, n))
  return { records: n, ...counted, ...phase.end() }
}

async function engineSink(n: number, intervalMs: number): Promise<RunResult> {
  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs } })
  env
    .fromSequence(0, n - 1)
    .sinkTo(
      new ActiveMQSink<number>({ ...connection, destination: DESTINATION, serializer: payload, maxInFlight: WINDOW }),
    )
  const phase = hotPhase()
  await env.execute('bench: activemq sink')
  const time = phase.end()
  return { records: n, ...(await withSession((s) => read(s, n))), ...time }
}

async function rawSink(n: number): Promise<RunResult> {
  const phase = hotPhase()
  await withSession((s) => send(s, n))
  const time = phase.end()
  return { records: n, ...(await withSession((s) => read(s, n))), ...time }
}

async function unavailable(): Promise<string | undefined> {
  try {
    const s = await Promise.race([
      session(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no CONNECTED within 5 s')), 5000)),
    ])
    await closeStomp(s)
    return undefined
  } catch (error) {
    return `no ActiveMQ STOMP at ${HOST}:${PORT}: ${(error as Error).message}`
  }
}

const notes = (n: number): string[] => [
  `${formatInt(n)} messages of ${SIZE} bytes per run whatever --records says, persistent, one queue, broker stomp://${HOST}:${PORT}; each run's own timing (filling or reading back the queue is not timed).`,
  `ActiveMQ pages a queue's messages in maxPageSize (200 by default) at a time and pages more as acknowledgements come; the engine acknowledges per checkpoint (every ${CHECKPOINT_MS} ms), the baseline per message. Both use the connector's STOMP connection setup (Nagle off on the client).`,
]

export const activemqSourceCase: BenchCase = {
  id: 'activemq-source',
  title: `ActiveMQ source (STOMP): consume-and-ack, client-individual, prefetch ${PREFETCH}, engine acknowledges per checkpoint (every ${CHECKPOINT_MS} ms)`,
  unavailable,
  prepare({ quick }) {
    const n = quick ? 10_000 : 60_000
    return {
      reps: 5,
      warmup: 1,
      unit: 'messages',
      contenders: [
        { name: 'engine: ActiveMQSource (at-least-once)', role: 'engine', run: () => engineSource(n) },
        {
          name: 'engine: ActiveMQSource (at-least-once), 1 s checkpoints',
          role: 'engine',
          run: () => engineSource(n, 1000),
        },
        { name: 'stompjs alone, ACK each message', role: 'baseline', run: () => rawSource(n) },
      ],
      notes: notes(n),
      targets: (s) => ratioTargets(s, 'activemq source', TARGET),
    }
  },
}

export const activemqSinkCase: BenchCase = {
  id: 'activemq-sink',
  title: `ActiveMQ sink (STOMP): persistent SEND with a receipt each, ${WINDOW} unreceipted at most`,
  unavailable,
  prepare({ quick }) {
    const n = quick ? 10_000 : 60_000
    return {
      reps: 5,
      warmup: 1,
      unit: 'messages',
      contenders: [
        {
          name: `engine: ActiveMQSink, checkpoint every ${CHECKPOINT_MS} ms`,
          role: 'engine',
          run: () => engineSink(n, CHECKPOINT_MS),
        },
        {
          name: `engine: ActiveMQSink, checkpoint every ${SINK_CHECKPOINT_MS} ms`,
          role: 'engine',
          run: () => engineSink(n, SINK_CHECKPOINT_MS),
        },
        { name: 'stompjs alone, receipt per message', role: 'baseline', run: () => rawSink(n) },
      ],
      notes: notes(n),
      targets: (s) => ratioTargets(s, 'activemq sink', TARGET),
    }
  },
}

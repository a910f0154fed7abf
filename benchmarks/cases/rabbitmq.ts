// RabbitMQ cases, on the machine's broker (127.0.0.1:5672; SLUICE_AMQP_URL overrides), same run, same broker:
// - rabbitmq-source: n persistent messages of SIZE bytes wait in a durable queue (published before the
//   timing starts); the engine reads them with RabbitMQSource (at-least-once: one basic.ack with `multiple`
//   per completed checkpoint, every CHECKPOINT_MS) into a counting sink and is timed until every message is
//   acknowledged; the baseline is amqplib alone consuming with the same prefetch and acknowledging each
//   message (basic.ack per message) — and, as a stronger baseline, acknowledging every 100th with `multiple`.
// - rabbitmq-sink: the engine publishes n records of SIZE bytes with RabbitMQSink (confirm channel,
//   persistent, mandatory, every confirm awaited on each barrier and at the end); the baseline is amqplib
//   alone publishing the same messages on a confirm channel with the same sliding window of unconfirmed
//   messages (at most WINDOW, resumed at half).
// n is the case's own (100,000; 20,000 with --quick). Target (issue 6): engine ≥ 0.8 × each baseline.
import { queueSourceRun } from '../queue-source-run.js'
import { type ConsumeMessage, connect } from 'amqplib'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { RabbitMQSink, RabbitMQSource } from '../../lib/connectors/rabbitmq/index.js'
import { type BenchCase, type RunResult, formatInt, ratioTargets, hotPhase } from '../measure.js'

const URL = process.env.SLUICE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const SIZE = 128
const PREFETCH = 2048
const WINDOW = 2048
const CHECKPOINT_MS = 20
const TARGET = 0.8
/** One fixed queue, purged before each run: an interrupted run leaves at most this one behind. */
const QUEUE = 'sluice-bench-rabbitmq'

/** Message i: its number, padded to SIZE bytes; the checksum is the sum of the numbers. */
const payload = (i: number): Buffer => Buffer.from(String(i).padEnd(SIZE, '.'), 'latin1')
const numberOf = (content: Buffer): number => Number.parseInt(content.toString('latin1', 0, 12), 10)

async function withChannel<T>(work: (channel: import('amqplib').ConfirmChannel) => Promise<T>): Promise<T> {
  const model = await connect(URL)
  let channel: import('amqplib').ConfirmChannel | undefined
  try {
    channel = await model.createConfirmChannel()
    return await work(channel)
  } finally {
    // The channel first: a connection.close can overtake the channel's last basic.ack in amqplib.
    await channel?.close().catch(() => {})
    await model.close().catch(() => {})
  }
}

/** Fills the queue with n messages (not timed). */
async function fill(n: number): Promise<void> {
  await withChannel(async (channel) => {
    await channel.assertQueue(QUEUE, { durable: true })
    await channel.purgeQueue(QUEUE)
    for (let i = 0; i < n; i++) {
      if (!channel.sendToQueue(QUEUE, payload(i), { persistent: true }))
        await new Promise<void>((resolve) => channel.once('drain', () => resolve()))
      if (i % WINDOW === WINDOW - 1) await channel.waitForConfirms()
    }
    await channel.waitForConfirms()
  })
}

/** The engine reading n messages with checkpoints every `checkpointMs` (see {@link queueSourceRun}). */
async function engineSource(n: number, checkpointMs = CHECKPOINT_MS): Promise<RunResult> {
  await fill(n)
  const source = new RabbitMQSource({ url: URL, queue: QUEUE, prefetch: PREFETCH })
  return queueSourceRun('rabbitmq', source, (m: ConsumeMessage) => numberOf(m.content), n, checkpointMs)
}

async function rawSource(n: number, ackEvery: number): Promise<RunResult> {
  await fill(n)
  const phase = hotPhase()
  let output = 0
  let checksum = 0
  await withChannel(async (channel) => {
    await channel.prefetch(PREFETCH)
    await new Promise<void>((resolve) => {
      void channel.consume(QUEUE, (m) => {
        if (m === null) return
        output++
        checksum += numberOf(m.content)
        if (output % ackEvery === 0 || output === n) channel.ack(m, ackEvery > 1)
        if (output === n) resolve()
      })
    })
    await channel.checkQueue(QUEUE) // the acks were processed
  })
  return { records: n, output, checksum, ...phase.end() }
}

async function engineSink(n: number): Promise<RunResult> {
  await withChannel(async (channel) => {
    await channel.assertQueue(QUEUE, { durable: true })
    await channel.purgeQueue(QUEUE)
  })
  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: CHECKPOINT_MS } })
  env
    .fromSequence(0, n - 1)
    .sinkTo(
      new RabbitMQSink<number>({ url: URL, exchange: '', routingKey: QUEUE, serializer: payload, maxInFlight: WINDOW }),
    )
  const phase = hotPhase()
  await env.execute('bench: rabbitmq sink')
  const time = phase.end()
  return { records: n, ...(await countQueue(n)), ...time }
}

async function rawSink(n: number): Promise<RunResult> {
  await withChannel(async (channel) => {
    await channel.assertQueue(QUEUE, { durable: true })
    await channel.purgeQueue(QUEUE)
  })
  const phase = hotPhase()
  await withChannel(async (channel) => {
    // A sliding window, as a careful amqplib user writes it: at most WINDOW unconfirmed, resume at half.
    let confirmed = 0
    let wake: (() => void) | undefined
    channel.on('ack', ({ deliveryTag, multiple }: { deliveryTag: number; multiple: boolean }) => {
      confirmed = multiple ? deliveryTag : confirmed + 1
      wake?.()
    })
    let sent = 0
    while (sent < n) {
      while (sent < n && sent - confirmed < WINDOW) {
        if (!channel.publish('', QUEUE, payload(sent++), { persistent: true, mandatory: true }))
          await new Promise<void>((resolve) => channel.once('drain', () => resolve()))
      }
      await new Promise<void>((resolve) => {
        wake = () => {
          if (confirmed === n || sent - confirmed <= WINDOW >> 1) resolve()
        }
      })
    }
    await channel.waitForConfirms()
  })
  const time = phase.end()
  return { records: n, ...(await countQueue(n)), ...time }
}

/** What arrived in the queue: its count and checksum (read and purged, not timed). */
async function countQueue(n: number): Promise<{ output: number; checksum: number }> {
  let output = 0
  let checksum = 0
  await withChannel(async (channel) => {
    await channel.prefetch(PREFETCH)
    await new Promise<void>((resolve) => {
      if (n === 0) resolve()
      void channel.consume(QUEUE, (m) => {
        if (m === null) return
        output++
        checksum += numberOf(m.content)
        if (output % 1000 === 0 || output === n) channel.ack(m, true)
        if (output === n) resolve()
      })
    })
  })
  return { output, checksum }
}

async function unavailable(): Promise<string | undefined> {
  try {
    await withChannel(async () => undefined)
    return undefined
  } catch (error) {
    return `no RabbitMQ at ${URL.replace(/\/\/[^@]*@/, '//')}: ${(error as Error).message}`
  }
}

const notes = (n: number): string[] => [
  `${formatInt(n)} messages of ${SIZE} bytes per run whatever --records says, persistent, one durable queue, broker ${URL.replace(/\/\/[^@]*@/, '//')}; each run's own timing (filling or reading back the queue is not timed).`,
]

export const rabbitmqSourceCase: BenchCase = {
  id: 'rabbitmq-source',
  title: `RabbitMQ source: consume-and-ack, prefetch ${PREFETCH}, engine acknowledges per checkpoint (every ${CHECKPOINT_MS} ms)`,
  unavailable,
  prepare({ quick }) {
    const n = quick ? 20_000 : 100_000
    return {
      reps: 5,
      warmup: 1,
      unit: 'messages',
      contenders: [
        { name: 'engine: RabbitMQSource (at-least-once)', role: 'engine', run: () => engineSource(n) },
        {
          name: 'engine: RabbitMQSource (at-least-once), 1 s checkpoints',
          role: 'engine',
          run: () => engineSource(n, 1000),
        },
        { name: 'amqplib alone, ack each message', role: 'baseline', run: () => rawSource(n, 1) },
        { name: 'amqplib alone, ack every 100th (multiple)', role: 'baseline', run: () => rawSource(n, 100) },
      ],
      notes: notes(n),
      targets: (s) => ratioTargets(s, 'rabbitmq source', TARGET),
    }
  },
}

export const rabbitmqSinkCase: BenchCase = {
  id: 'rabbitmq-sink',
  title: `RabbitMQ sink: publish with confirms, ${WINDOW} unconfirmed at most, persistent`,
  unavailable,
  prepare({ quick }) {
    const n = quick ? 20_000 : 100_000
    return {
      reps: 5,
      warmup: 1,
      unit: 'messages',
      contenders: [
        { name: 'engine: RabbitMQSink (confirms awaited per checkpoint)', role: 'engine', run: () => engineSink(n) },
        { name: 'amqplib alone, confirm channel', role: 'baseline', run: () => rawSink(n) },
      ],
      notes: notes(n),
      targets: (s) => ratioTargets(s, 'rabbitmq sink', TARGET),
    }
  },
}

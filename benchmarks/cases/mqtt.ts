// MQTT cases, on a Mosquitto started by the case on a free loopback port (no queue limit: the machine's
// Mosquitto keeps at most 1,000 queued messages per client and drops the rest), MQTT 5, same run, same broker:
// - mqtt-source: n QoS 1 messages of SIZE bytes wait in a persistent session (published before the timing
//   starts). The engine: MqttSource (PUBACK per completed checkpoint, every CHECKPOINT_MS; its window grows
//   from 1000 to at most UNACKED unacknowledged, also its Receive Maximum) into a counting sink, timed until every
//   message is acknowledged. The baseline: mqtt.js alone resuming the same kind of session and
//   acknowledging each message as it arrives (its default), timed until the n-th message. A second engine
//   contender checkpoints every SLOW_CHECKPOINT_MS with the source's default window (issue 10: a queue source
//   at a 1 s checkpoint interval ≥ 0.8 × a plain client of the same broker).
// - mqtt-sink: n records of SIZE bytes published with QoS 1. The engine: MqttSink (at most WINDOW
//   unacknowledged; a checkpoint waits for the PUBACKs of the publishes before its barrier while later
//   records are published, and the end waits for all), with a checkpoint every 20 ms and every 500 ms. The baseline: mqtt.js
//   alone publishing with the same window, timed until the last PUBACK.
// n is the case's own: for the sink 100,000 (40,000 with --quick, as the Redis cases); for the source 300,000
// (100,000 with --quick), so that the engine's wait for the checkpoint after its last message (up to one
// interval, 1 s for the second contender, which the baseline acknowledging on arrival does not have) is a
// small part of the run rather than a third of it (issue 10: 0.40x by wall at 100,000 in a 3 s run).
// Target (issue 6): engine ≥ 0.8 × the baseline.
import { CountingSink } from '../counting-sink.js'
import mqtt, { type MqttClient } from 'mqtt'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { MqttSink, MqttSource, type MqttMessage, type MqttReader } from '../../lib/connectors/mqtt/index.js'
import type { SourceReaderContext } from '../../lib/runtime/source.js'
import { PrivateMosquitto } from '../../spec/support/brokers.js'
import { type BenchCase, type RunResult, type Summary, type TargetCheck, formatInt, hotPhase } from '../measure.js'

const SIZE = 100
const UNACKED = 5000
const WINDOW = 1000
const CHECKPOINT_MS = 20
const SLOW_CHECKPOINT_MS = 1000
/** The sink waits for every PUBACK on each barrier: how often that happens sets how often its window drains. */
const SINK_CHECKPOINT_MS = [20, 500] as const
const TARGET = 0.8
const TOPIC = `sluice-bench/${process.pid}`

/** Message i: its number, padded to SIZE bytes; the checksum is the sum of the numbers. */
const payload = (i: number): Buffer => Buffer.from(String(i).padEnd(SIZE, '.'), 'latin1')
const numberOf = (content: Buffer): number => Number.parseInt(content.toString('latin1', 0, 12), 10)

let broker: PrivateMosquitto | undefined
let sessions = 0

async function url(): Promise<string> {
  if (broker === undefined) {
    broker = await PrivateMosquitto.start()
    // the case has no teardown: the broker must not keep the runner alive (it is killed when the runner exits)
    broker.unref()
  }
  return broker.url
}

/** Publishes n messages with QoS 1, at most WINDOW unacknowledged; resolves on the last PUBACK. */
async function publishAll(client: MqttClient, topic: string, n: number): Promise<void> {
  let inFlight = 0
  let resume: (() => void) | undefined
  let done: (() => void) | undefined
  const finished = new Promise<void>((resolve) => (done = resolve))
  let acked = 0
  const onAck = (): void => {
    inFlight--
    if (++acked === n) done!()
    if (resume !== undefined && inFlight <= WINDOW / 2) {
      const r = resume
      resume = undefined
      r()
    }
  }
  for (let i = 0; i < n; i++) {
    if (inFlight >= WINDOW) await new Promise<void>((resolve) => (resume = resolve))
    inFlight++
    client.publish(topic, payload(i), { qos: 1 }, onAck)
  }
  await finished
}

/** A persistent session subscribed to its own topic, with n messages queued in it (not timed). */
async function queuedSession(n: number): Promise<{ clientId: string; topic: string }> {
  const target = await url()
  const clientId = `sluice-bench-${process.pid}-${++sessions}`
  const topic = `${TOPIC}/${sessions}`
  const consumer = await mqtt.connectAsync(target, {
    clientId,
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 3600 },
  })
  await consumer.subscribeAsync(topic, { qos: 1 })
  await consumer.endAsync()
  const producer = await mqtt.connectAsync(target, { protocolVersion: 5 })
  await publishAll(producer, topic, n)
  await producer.endAsync()
  return { clientId, topic }
}

/** The engine reading a queued session: `window` is `maxUnacknowledged`, the source's default when undefined. */
async function engineSource(n: number, checkpointMs: number, window: number | undefined): Promise<RunResult> {
  const { clientId, topic } = await queuedSession(n)
  const sink = new CountingSink((m: MqttMessage) => numberOf(m.payload), n)
  const all = sink.reached
  let reader: MqttReader | undefined
  const source = new MqttSource({
    url: await url(),
    protocolVersion: 5,
    topics: topic,
    clientId,
    qos: 1,
    ...(window === undefined ? {} : { maxUnacknowledged: window }),
    maxBuffered: 2048,
  })
  const create = source.createReader.bind(source)
  source.createReader = (context: SourceReaderContext) => (reader = create(context))
  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: checkpointMs } })
  env.fromSource(source, { uid: 'mqtt' }).sinkTo(sink)
  const phase = hotPhase()
  const job = env.executeAsync('bench: mqtt source')
  await all
  // consume-and-ack: the run ends when the broker has every acknowledgement
  while (reader!.unacknowledged > 0) await new Promise((resolve) => setTimeout(resolve, 1))
  const time = phase.end()
  await job.cancel()
  return { records: n, output: sink.output, checksum: sink.checksum, ...time }
}

async function rawSource(n: number): Promise<RunResult> {
  const { clientId } = await queuedSession(n)
  let output = 0
  let checksum = 0
  const target = await url()
  const phase = hotPhase()
  const client = mqtt.connect(target, {
    clientId,
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 3600 },
  })
  await new Promise<void>((resolve) => {
    client.on('message', (_topic, message) => {
      checksum += numberOf(message)
      if (++output === n) resolve()
    })
  })
  const time = phase.end()
  await client.endAsync()
  return { records: n, output, checksum, ...time }
}

async function engineSink(n: number, checkpointMs: number): Promise<RunResult> {
  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: checkpointMs } })
  env.fromSequence(0, n - 1).sinkTo(
    new MqttSink<number>({
      url: await url(),
      protocolVersion: 5,
      topic: `${TOPIC}/sink`,
      qos: 1,
      maxInFlight: WINDOW,
      serializer: payload,
    }),
  )
  const phase = hotPhase()
  await env.execute('bench: mqtt sink')
  const time = phase.end()
  return { records: n, output: n, checksum: (n * (n - 1)) / 2, ...time }
}

async function rawSink(n: number): Promise<RunResult> {
  const target = await url()
  // connecting is timed, as the engine's writer connects within the job
  const phase = hotPhase()
  const client = await mqtt.connectAsync(target, { protocolVersion: 5 })
  await publishAll(client, `${TOPIC}/sink`, n)
  const time = phase.end()
  await client.endAsync()
  return { records: n, output: n, checksum: (n * (n - 1)) / 2, ...time }
}

async function unavailable(): Promise<string | undefined> {
  try {
    await url()
    return undefined
  } catch (error) {
    return `cannot start a private mosquitto: ${(error as Error).message}`
  }
}

function targets(s: ReadonlyMap<string, Summary>, label: string): TargetCheck[] {
  const base = [...s.values()].find((x) => x.role === 'baseline')!
  return [...s.values()]
    .filter((x) => x.role === 'engine')
    .map((engine) => {
      const ratio = engine.rate / base.rate
      return {
        label: `${label}: ${engine.name} ≥ ${TARGET} × ${base.name}`,
        pass: ratio >= TARGET,
        actual: `${ratio.toFixed(2)}× (${formatInt(engine.rate)} vs ${formatInt(base.rate)} messages/s)`,
      }
    })
}

const size = (quick: boolean): number => (quick ? 40_000 : 100_000)
const sourceSize = (quick: boolean): number => (quick ? 100_000 : 300_000)
const notes = (n: number): string[] => [
  `${formatInt(n)} QoS 1 messages of ${SIZE} bytes per run whatever --records says, MQTT 5, a private Mosquitto on a free loopback port (no queue limit); each run's own timing: connecting is timed for every contender, and the engine's job setup; queueing the messages beforehand is not.`,
]

export const mqttSourceCase: BenchCase = {
  id: 'mqtt-source',
  title: `MQTT source: consume-and-ack QoS 1, engine acknowledges per checkpoint (every ${CHECKPOINT_MS} ms with ${formatInt(UNACKED)} unacknowledged at most; every ${SLOW_CHECKPOINT_MS} ms with the default window)`,
  unavailable,
  prepare({ quick }) {
    const n = sourceSize(quick)
    return {
      reps: 5,
      warmup: 1,
      unit: 'messages',
      contenders: [
        {
          name: `engine: MqttSource (at-least-once), checkpoint every ${CHECKPOINT_MS} ms`,
          role: 'engine',
          run: () => engineSource(n, CHECKPOINT_MS, UNACKED),
        },
        {
          name: `engine: MqttSource (at-least-once), checkpoint every ${SLOW_CHECKPOINT_MS} ms, default window`,
          role: 'engine',
          run: () => engineSource(n, SLOW_CHECKPOINT_MS, undefined),
        },
        { name: 'mqtt.js alone, PUBACK on arrival', role: 'baseline', run: () => rawSource(n) },
      ],
      notes: notes(n),
      targets: (s) => targets(s, 'mqtt source'),
    }
  },
}

export const mqttSinkCase: BenchCase = {
  id: 'mqtt-sink',
  title: `MQTT sink: publish QoS 1 with acknowledgements, ${formatInt(WINDOW)} unacknowledged at most, each checkpoint awaits the PUBACKs before its barrier`,
  unavailable,
  prepare({ quick }) {
    const n = size(quick)
    return {
      reps: 5,
      warmup: 1,
      unit: 'messages',
      contenders: [
        ...SINK_CHECKPOINT_MS.map((ms) => ({
          name: `engine: MqttSink, checkpoint every ${ms} ms`,
          role: 'engine' as const,
          run: () => engineSink(n, ms),
        })),
        { name: 'mqtt.js alone, same window', role: 'baseline', run: () => rawSink(n) },
      ],
      notes: notes(n),
      targets: (s) => targets(s, 'mqtt sink'),
    }
  },
}

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment, decode, map } from '../../../lib/index.js'
import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import { MqttSource, type MqttMessage } from '../../../lib/connectors/mqtt/index.js'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { createLogger } from '../../../lib/logging.js'
import { DEAD_LETTERS, type DeadLetter } from '../../../lib/runtime/output-tag.js'
import { PrivateMosquitto, SHARED, freePort } from '../../support/brokers.js'
import { Ledger, LedgerSink } from '../../support/ledger-sink.js'
import { settlesWithin, waitFor } from '../../support/wait-for.js'
import { census } from '../redis/support.js'
import { SlowSink } from '../../support/slow-sink.js'
import { watchReaders } from '../../support/reader-gauges.js'
import { sharedRecord } from '../../support/shared-flags.js'
import {
  BROKERS,
  MosquittoForSuite,
  context,
  drain,
  forgetSession,
  publishNumbers,
  publisher,
  quietFor,
  unique,
} from './support.js'

/**
 * The MQTT source against real brokers: a private Mosquitto (MQTT 5 and 3.1.1, no queue limits, its
 * own port, restarted by one test), ActiveMQ's MQTT transport (127.0.0.1:1884), and the machine's
 * Mosquitto (127.0.0.1:1883) for a smoke test of the shared service.
 */
const MqttSourceSuite = suite('mqtt source')
const mosquitto = new MosquittoForSuite()
MqttSourceSuite.before(() => mosquitto.start())
MqttSourceSuite.after(() => mosquitto.stop())

MqttSourceSuite('validates its options, naming the option', () => {
  const base = { url: 'mqtt://127.0.0.1:1883', topics: 't', clientId: 'c' }
  const is = (option: string) => (e: unknown) => e instanceof ConfigError && e.option === option
  assert.throws(() => new MqttSource({ ...base, url: 'http://x' }), is('mqttSource.url'))
  assert.throws(() => new MqttSource({ ...base, topics: [] }), is('mqttSource.topics'))
  assert.throws(() => new MqttSource({ ...base, clientId: '' }), is('mqttSource.clientId'))
  assert.throws(() => new MqttSource({ ...base, qos: 3 as never }), is('mqttSource.qos'))
  assert.throws(() => new MqttSource({ ...base, protocolVersion: 3 as never }), is('mqttSource.protocolVersion'))
  assert.throws(() => new MqttSource({ ...base, maxUnacknowledged: 65_535 }), is('mqttSource.maxUnacknowledged'))
  assert.throws(
    () => new MqttSource({ ...base, maxUnacknowledged: 100, initialUnacknowledged: 101 }),
    is('mqttSource.initialUnacknowledged'),
  )
  assert.throws(() => new MqttSource({ ...base, maxUnacknowledgedBytes: 0 }), is('mqttSource.maxUnacknowledgedBytes'))
})

for (const broker of BROKERS) {
  for (const qos of [1, 2] as const) {
    MqttSourceSuite(
      `${broker.name}, QoS ${qos}: a message is acknowledged only when the checkpoint covering it completes`,
      async () => {
        const url = mosquitto.urlOf(broker)
        const { topic, clientId } = unique(`ack-q${qos}`)
        const source = new MqttSource({ url, topics: topic, clientId, qos, protocolVersion: broker.protocolVersion })
        const pub = await publisher(url)
        try {
          const first = source.createReader(context)
          await first.start()
          await publishNumbers(pub, topic, 10, 0, qos)
          const got: string[] = []
          await drain(first, got, () => got.length === 10)
          first.snapshotState(1)
          first.notifyCheckpointComplete(1)
          await publishNumbers(pub, topic, 5, 10, qos)
          await drain(first, got, () => got.length === 15)
          first.snapshotState(2) // never completes: the job "crashes"
          assert.is(first.unacknowledged, 5)
          await first.close()

          const second = source.createReader(context)
          await second.start()
          const again: string[] = []
          await drain(second, again, () => again.length >= 5)
          await quietFor(300)
          await drain(second, again, () => true)
          assert.equal(again, ['10', '11', '12', '13', '14'], 'exactly the unacknowledged messages came back')
          second.snapshotState(3)
          second.notifyCheckpointComplete(3)
          await quietFor(100)
          await second.close()

          const third = source.createReader(context)
          await third.start()
          const none: string[] = []
          await quietFor(400)
          await drain(third, none, () => true)
          await third.close()
          assert.equal(none, [], 'acknowledged messages do not come back')
        } finally {
          await pub.endAsync()
          await forgetSession(url, clientId)
        }
      },
    )
  }
}

MqttSourceSuite(
  'a kept session whose messages fill the reader before the SUBACK does not hold up start()',
  async () => {
    const url = mosquitto.urlOf(BROKERS[1]!)
    const { topic, clientId } = unique('full-before-suback')
    const source = new MqttSource({ url, topics: topic, clientId, qos: 1, maxBuffered: 50, maxUnacknowledged: 50 })
    const pub = await publisher(url)
    try {
      const first = source.createReader(context)
      await first.start() // creates the session and its subscription
      await first.close()
      await publishNumbers(pub, topic, 500) // queued for the absent client: all sent at once on reconnection (MQTT 3.1.1, no in-flight limit)
      const second = source.createReader(context)
      await settlesWithin(second.start(), { timeoutMs: 10_000, description: 'start() resolved with the reader full' })
      const got: string[] = []
      let checkpoint = 0
      await drain(second, got, () => {
        second.snapshotState(++checkpoint)
        second.notifyCheckpointComplete(checkpoint)
        return got.length === 500
      })
      assert.ok(second.counts.parked > 0, 'the reader filled up and held the packets after it')
      assert.ok(second.maxUnacknowledgedSeen <= 50)
      await second.close()
    } finally {
      await pub.endAsync()
      await forgetSession(url, clientId)
    }
  },
)

MqttSourceSuite(
  "the machine's Mosquitto (127.0.0.1:1883), QoS 0 and 1: messages arrive with topic, QoS and retain flag",
  async () => {
    const { topic, clientId } = unique('shared')
    const pub = await publisher(SHARED.mosquitto)
    await pub.publishAsync(`${topic}/retained`, 'kept', { qos: 1, retain: true })
    const reader = new MqttSource({ url: SHARED.mosquitto, topics: [`${topic}/#`], clientId, qos: 1 }).createReader(
      context,
    )
    const got: MqttMessage[] = []
    try {
      await reader.start()
      await pub.publishAsync(`${topic}/a`, 'zero', { qos: 0 })
      await pub.publishAsync(`${topic}/b`, 'one', { qos: 1 })
      const output = { collect: (m: MqttMessage) => void got.push(m), emitWatermark() {}, markIdle() {} }
      await waitFor(
        () => {
          while (reader.pollNext(output) === 'more');
          return got.length === 3
        },
        { timeoutMs: 10_000, description: '3 messages' },
      )
      const byTopic = Object.fromEntries(
        got.map((m) => [
          m.topic.slice(topic.length + 1),
          { payload: m.payload.toString(), qos: m.qos, retain: m.retain },
        ]),
      )
      assert.equal(byTopic, {
        retained: { payload: 'kept', qos: 1, retain: true },
        a: { payload: 'zero', qos: 0, retain: false },
        b: { payload: 'one', qos: 1, retain: false },
      })
    } finally {
      await reader.close()
      await pub.publishAsync(`${topic}/retained`, '', { qos: 1, retain: true })
      await pub.endAsync()
      await forgetSession(SHARED.mosquitto, clientId)
    }
  },
)

for (const broker of BROKERS) {
  MqttSourceSuite(`${broker.name}: 5,000 messages through an injected failure and a restore, none lost`, async () => {
    const url = mosquitto.urlOf(broker)
    const { topic, clientId } = unique('restore')
    const ledger = new Ledger<number>()
    const fault = sharedRecord({ failed: false, seen: 0 })
    const env = StreamEnvironment.create({
      logLevel: 'silent',
      checkpointing: { intervalMs: 10 },
      restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
    })
    const source = new MqttSource({
      url,
      topics: topic,
      clientId,
      qos: 1,
      protocolVersion: broker.protocolVersion,
    })
    env
      .fromSource(source, { uid: 'mqtt' })
      .pipe(
        map(
          (m: MqttMessage) => {
            if (!fault.failed && ++fault.seen === 2500) {
              fault.failed = true
              throw new Error('injected')
            }
            return Number(m.payload.toString())
          },
          { uid: 'faulty' },
        ),
      )
      .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
    const job = env.executeAsync()
    const pub = await publisher(url)
    try {
      await job.running
      await publishNumbers(pub, topic, 5000)
      await waitFor(() => new Set(ledger.committed).size === 5000, {
        timeoutMs: 30_000,
        description: `5,000 distinct committed (have ${new Set(ledger.committed).size})`,
      })
      assert.ok(fault.failed)
      assert.is(job.metrics().restarts, 1, 'a second reader after the restore')
      assert.equal(census(ledger.committed, 5000).missing, [])
    } finally {
      await job.cancel()
      await pub.endAsync()
      await forgetSession(url, clientId)
    }
  })

  MqttSourceSuite(
    `${broker.name}: backpressure — a slow sink keeps the unacknowledged messages within maxUnacknowledged`,
    async () => {
      const url = mosquitto.urlOf(broker)
      const { topic, clientId } = unique('backpressure')
      const source = new MqttSource({
        url,
        topics: topic,
        clientId,
        qos: 1,
        protocolVersion: broker.protocolVersion,
        maxBuffered: 50,
        maxUnacknowledged: 200,
      })
      const readers = watchReaders(source, { maxUnacknowledgedSeen: (r) => r.maxUnacknowledgedSeen })
      const sink = new SlowSink<MqttMessage, number>(50, 5, (m) => Number(m.payload.toString()))
      const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 50 }, chaining: false })
      env.fromSource(source, { uid: 'mqtt' }).sinkTo(sink)
      const job = env.executeAsync()
      const pub = await publisher(url)
      try {
        await job.running
        await publishNumbers(pub, topic, 3000)
        await waitFor(() => sink.received.length >= 3000, {
          timeoutMs: 30_000,
          description: `3,000 received (have ${sink.received.length})`,
        })
        const most = readers.at(0).maxUnacknowledgedSeen
        assert.ok(most <= 200, `held ${most} unacknowledged`)
        assert.ok(most >= 100, `the bound was approached (${most}), so it was tested`)
        assert.equal(census(sink.received.values(), 3000).missing, [])
      } finally {
        await job.cancel()
        await pub.endAsync()
        await forgetSession(url, clientId)
      }
    },
  )
}

for (const broker of [BROKERS[0]!, BROKERS[2]!]) {
  MqttSourceSuite(`${broker.name}: a malformed payload goes to the dead-letter output with the reason`, async () => {
    const url = mosquitto.urlOf(broker)
    const { topic, clientId } = unique('malformed')
    const good: number[] = []
    const letters: DeadLetter[] = []
    const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 10 } })
    const decoded = env
      .fromSource(new MqttSource({ url, topics: topic, clientId, protocolVersion: broker.protocolVersion }), {
        uid: 'mqtt',
      })
      .pipe(decode((m: MqttMessage) => (JSON.parse(m.payload.toString()) as { n: number }).n))
    decoded.sinkTo(new CallbackSink((n: number) => void good.push(n)))
    decoded.getSideOutput(DEAD_LETTERS).sinkTo(new CallbackSink((letter: DeadLetter) => void letters.push(letter)))
    const job = env.executeAsync()
    const pub = await publisher(url)
    try {
      await job.running
      await publishNumbers(pub, topic, 300, 0, 1, (n) => (n % 100 === 42 ? `{"n": ${n}` : JSON.stringify({ n })))
      await waitFor(() => good.length + letters.length === 300, {
        timeoutMs: 15_000,
        description: `300 handled (${good.length} + ${letters.length})`,
      })
      assert.is(letters.length, 3)
      const letter = letters[0]!
      // a record that crossed threads (a dead letter from a worker) holds its payload as a Uint8Array
      assert.match(Buffer.from((letter.record as MqttMessage).payload).toString(), /^\{"n": \d+$/)
      assert.match(letter.reason, /cannot decode: .*JSON/)
    } finally {
      await job.cancel()
      await pub.endAsync()
      await forgetSession(url, clientId)
    }
  })
}

MqttSourceSuite(
  'reconnects after a Mosquitto restart mid-stream and loses nothing; redeliveries of held messages are not emitted twice',
  async () => {
    const broker = await PrivateMosquitto.start()
    const { topic, clientId } = unique('restart')
    const read = sharedRecord({ messages: 0 })
    const ledger = new Ledger<number>()
    const source = new MqttSource({
      url: broker.url,
      topics: topic,
      clientId,
      qos: 1,
      protocolVersion: 5,
      retry: { maxRetries: 50, initialDelayMs: 20, maxDelayMs: 200 },
    })
    const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 200 } })
    env
      .fromSource(source, { uid: 'mqtt' })
      .pipe(
        map((m: MqttMessage) => {
          read.messages++
          return Number(Buffer.from(m.payload).toString())
        }),
      )
      .sinkTo(new LedgerSink(ledger))
    const job = env.executeAsync()
    const pub = await publisher(broker.url)
    try {
      await job.running
      const publishing = publishNumbers(pub, topic, 6000)
      await waitFor(() => read.messages >= 2000, { timeoutMs: 15_000, description: '2,000 received' })
      // a clean stop: Mosquitto writes its database (sessions, queued and in-flight messages) and reads it back on start
      await broker.restart('SIGTERM')
      await publishing
      await waitFor(() => new Set(ledger.committed).size === 6000, {
        timeoutMs: 30_000,
        description: `6,000 distinct committed (have ${new Set(ledger.committed).size})`,
      })
      // the reader's gauges, from the job's metrics (the reader runs in a worker on the worker executor)
      const reader = job.metrics().details.find((d) => d.operator === 'mqtt')!.metrics
      assert.is(job.metrics().restarts, 0, 'no job restart: the reader itself reconnected')
      assert.ok((reader.connections as number) >= 2, `it reconnected (connections: ${reader.connections})`)
      assert.equal(census(ledger.committed, 6000).missing, [])
      // Duplicates remain possible (at-least-once): Mosquitto keeps delivering for a moment after SIGTERM
      // but does not save the acknowledgements it receives then, and sends those messages again.
      assert.ok(
        (reader.redeliveries as number) > 0,
        `the broker sent held messages again, and they were skipped (${reader.redeliveries})`,
      )
    } finally {
      await job.cancel()
      await pub.endAsync()
      await broker.dispose()
    }
  },
)

MqttSourceSuite('an unreachable broker fails the job with ERR_CONNECT after the configured retries', async () => {
  const port = await freePort()
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env
    .fromSource(
      new MqttSource({
        url: `mqtt://127.0.0.1:${port}`,
        topics: 't',
        clientId: 'c',
        retry: { maxRetries: 2, initialDelayMs: 10 },
      }),
    )
    .sinkTo(new CallbackSink(() => {}))
  const error = await env.execute().then(
    () => undefined,
    (e: unknown) => e,
  )
  let cause: unknown = error
  while (cause !== undefined && !(cause instanceof ConnectorError)) cause = (cause as { cause?: unknown }).cause
  assert.instance(cause, ConnectorError)
  assert.is((cause as ConnectorError).code, 'ERR_CONNECT')
  assert.match(
    (cause as Error).message,
    new RegExp(
      `mqttSource mqtt://127\\.0\\.0\\.1:${port}: no connection after 3 attempts \\(maxRetries 2\\): .*ECONNREFUSED`,
    ),
  )
})

MqttSourceSuite(
  'MQTT 5: the Receive Maximum is maxUnacknowledged; the window starts at initialUnacknowledged and grows once to half the byte budget as soon as it is the limit',
  async () => {
    const url = mosquitto.urlOf(BROKERS[0]!)
    const { topic, clientId } = unique('window-growth')
    const size = 100
    // half of 40,000 bytes at 100 bytes a message: a window of 200, under the Receive Maximum of 500
    const source = new MqttSource({
      url,
      protocolVersion: 5,
      topics: topic,
      clientId,
      qos: 1,
      initialUnacknowledged: 20,
      maxUnacknowledged: 500,
      maxUnacknowledgedBytes: 40_000,
    })
    let tick = 0
    const clock = { now: () => ++tick, scheduleAt: context.processingTime.scheduleAt }
    const reader = source.createReader({ ...context, processingTime: clock, checkpointIntervalMs: 1000 })
    const pub = await publisher(url, 5)
    let checkpoint = 0
    const complete = (): void => {
      reader.snapshotState(++checkpoint)
      reader.notifyCheckpointComplete(checkpoint)
    }
    try {
      await reader.start()
      const options = reader.connection.client.options as { properties?: { receiveMaximum?: number } }
      assert.is(options.properties?.receiveMaximum, 500)
      await publishNumbers(pub, topic, 600, 0, 1, (n) => String(n).padEnd(size, '.'))
      const got: string[] = []
      assert.is(reader.window, 20)
      // the window of 20 is the limit: the reader parks the 21st, runs dry with 20 unacknowledged and
      // grows the window then (no checkpoint completes here), and parks again at the grown window
      await drain(reader, got, () => got.length === 200 && reader.counts.parked > 1)
      assert.is(checkpoint, 0)
      assert.is(reader.window, 200, 'grown to half the byte budget at 100 bytes a message')
      assert.is(reader.unacknowledged, 200, 'the grown window bounds what the reader holds')
      complete()
      assert.is(reader.window, 200, 'grown once only')
      await drain(reader, got, () => {
        complete()
        return got.length === 600
      })
      assert.is(reader.maxUnacknowledgedSeen, 200)
      assert.equal(
        got.map((p) => Number.parseInt(p, 10)),
        Array.from({ length: 600 }, (_, i) => i),
      )
    } finally {
      await reader.close()
      await pub.endAsync()
      await forgetSession(url, clientId)
    }
  },
)

MqttSourceSuite(
  'a new message on a packet id still held (no DUP: the broker reused the id) is emitted, counted and logged, not dropped',
  async () => {
    const url = mosquitto.urlOf(BROKERS[0]!)
    const { topic, clientId } = unique('reused-id')
    const lines: string[] = []
    const logger = createLogger({ level: 'warn', write: (line) => lines.push(line) })
    const reader = new MqttSource({ url, protocolVersion: 5, topics: topic, clientId, qos: 1 }).createReader({
      ...context,
      logger,
      checkpointIntervalMs: 1000,
    })
    const pub = await publisher(url, 5)
    try {
      await reader.start()
      const client = reader.connection.client
      const ids: number[] = []
      client.on('packetreceive', (packet) => {
        if (packet.cmd === 'publish' && packet.messageId !== undefined) ids.push(packet.messageId)
      })
      await publishNumbers(pub, topic, 3)
      const got: string[] = []
      await drain(reader, got, () => got.length === 3)
      assert.is(reader.unacknowledged, 3, 'held until a checkpoint')
      // the PUBLISH as mqtt.js hands it to the reader, on the id of a message still held
      const reusedId = ids[0]!
      const packet = {
        cmd: 'publish',
        qos: 1,
        dup: false,
        retain: false,
        messageId: reusedId,
        topic,
        payload: Buffer.from('new'),
      }
      client.options.customHandleAcks!(topic, packet.payload, packet as never, () => {})
      await drain(reader, got, () => got.length === 4)
      assert.equal(got, ['0', '1', '2', 'new'], 'taken in, not dropped')
      assert.is(reader.counts.redeliveries, 0)
      assert.is(reader.metrics.value('reusedPacketIds'), 1)
      const warned = lines.map((line) => JSON.parse(line) as { msg: string; packetId?: number })
      assert.ok(
        warned.some((line) => line.packetId === reusedId && /packet id still unacknowledged/.test(line.msg)),
        `a log line names the id (${lines.join(' | ')})`,
      )
    } finally {
      await reader.close()
      await pub.endAsync()
      await forgetSession(url, clientId)
    }
  },
)

MqttSourceSuite.run()

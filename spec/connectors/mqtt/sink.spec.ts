import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import mqtt from 'mqtt'
import { StreamEnvironment, map } from '../../../lib/index.js'
import { MqttSink, type MqttSinkWriter } from '../../../lib/connectors/mqtt/index.js'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import type { SinkWriterContext } from '../../../lib/runtime/sink.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { PrivateMosquitto, freePort } from '../../support/brokers.js'
import { waitFor } from '../../support/wait-for.js'
import { replayedTest } from '../../support/worker-pass/pass-context.js'
import { sharedRecord } from '../../support/shared-flags.js'
import { census } from '../redis/support.js'
import { BROKERS, MosquittoForSuite, forgetSession, unique } from './support.js'

/**
 * The MQTT sink against real brokers: a private Mosquitto (MQTT 5 and 3.1.1; restarted by one test)
 * and ActiveMQ's MQTT transport (127.0.0.1:1884). What arrives is checked by a plain mqtt.js subscriber.
 */
const MqttSinkSuite = suite('mqtt sink')
const mosquitto = new MosquittoForSuite()
MqttSinkSuite.before(() => mosquitto.start())
MqttSinkSuite.after(() => mosquitto.stop())
const context: SinkWriterContext = { subtask: 0, parallelism: 1, processingTime: systemProcessingTime }

/**
 * A subscriber with a persistent session collecting payloads; `end()` also forgets its session. In a
 * worker of the worker-executor test pass replaying the test, none: the coordinator's subscriber checks
 * what arrives, and a second one with its client id would take its session over.
 */
async function subscriber(
  url: string,
  topic: string,
  protocolVersion: 4 | 5,
  qos: 0 | 1 | 2 = 1,
): Promise<{ payloads: string[]; end(): Promise<void> }> {
  const { clientId } = unique('subscriber')
  if (replayedTest() !== undefined) return { payloads: [], end: async () => {} }
  const client = await mqtt.connectAsync(url, {
    clientId,
    clean: false,
    protocolVersion,
    reconnectPeriod: 50,
    properties: protocolVersion === 5 ? { sessionExpiryInterval: 600 } : undefined,
  })
  const payloads: string[] = []
  client.on('message', (_topic, payload) => payloads.push(payload.toString()))
  await client.subscribeAsync(topic, { qos })
  return {
    payloads,
    async end() {
      await client.endAsync()
      await forgetSession(url, clientId)
    },
  }
}

MqttSinkSuite('validates its options, naming the option', () => {
  const is = (option: string) => (e: unknown) => e instanceof ConfigError && e.option === option
  const url = 'mqtt://127.0.0.1:1883'
  assert.throws(() => new MqttSink({ url, topic: 'a/+' }), is('mqttSink.topic'))
  assert.throws(() => new MqttSink({ url, topic: 't', qos: 5 as never }), is('mqttSink.qos'))
  assert.throws(() => new MqttSink({ url, topic: 't', retain: 'yes' as never }), is('mqttSink.retain'))
  assert.throws(() => new MqttSink({ url, topic: 't', maxInFlight: 0 }), is('mqttSink.maxInFlight'))
  assert.throws(() => new MqttSink({ url: 'localhost:1883', topic: 't' }), is('mqttSink.url'))
  assert.is(new MqttSink({ url, topic: 't', qos: 0 }).guarantee, 'at-most-once')
  assert.is(new MqttSink({ url, topic: 't' }).guarantee, 'at-least-once')
})

for (const broker of BROKERS) {
  MqttSinkSuite(`${broker.name}: publishes with QoS 0, 1 and 2 and the retain flag`, async () => {
    const url = mosquitto.urlOf(broker)
    const { topic } = unique('publish')
    const sub = await subscriber(url, `${topic}/#`, broker.protocolVersion, 2)
    try {
      const env = StreamEnvironment.create({ logLevel: 'silent' })
      const records = [0, 1, 2].flatMap((qos) => Array.from({ length: 100 }, (_, i) => ({ qos, i })))
      for (const qos of [0, 1, 2] as const) {
        env.fromCollection(records.filter((r) => r.qos === qos)).sinkTo(
          new MqttSink({
            url,
            protocolVersion: broker.protocolVersion,
            topic: `${topic}/q${qos}`,
            qos,
            serializer: (r) => `${r.qos}:${r.i}`,
          }),
        )
      }
      env
        .fromCollection(['last value'])
        .sinkTo(
          new MqttSink({ url, protocolVersion: broker.protocolVersion, topic: `${topic}/retained`, retain: true }),
        )
      await env.execute()
      await waitFor(() => sub.payloads.length >= 301, {
        timeoutMs: 10_000,
        description: `301 messages (have ${sub.payloads.length})`,
      })
      for (const qos of [0, 1, 2])
        assert.is(sub.payloads.filter((p) => p.startsWith(`${qos}:`)).length, 100, `QoS ${qos}`)
      // a subscriber arriving later still gets the retained message
      const late = await mqtt.connectAsync(url, { protocolVersion: broker.protocolVersion })
      const retained = await new Promise<{ payload: string; retain: boolean }>((resolve) => {
        late.on('message', (_t, payload, packet) => resolve({ payload: payload.toString(), retain: packet.retain }))
        void late.subscribeAsync(`${topic}/retained`, { qos: 1 })
      })
      assert.equal(retained, { payload: 'last value', retain: true })
      await late.publishAsync(`${topic}/retained`, '', { qos: 1, retain: true })
      await late.endAsync()
    } finally {
      await sub.end()
    }
  })
}

MqttSinkSuite('a barrier waits for every acknowledgement; ready() holds the job back at maxInFlight', async () => {
  const url = mosquitto.urlOf(BROKERS[0]!)
  const { topic } = unique('barrier')
  const sub = await subscriber(url, topic, 5)
  const writer = new MqttSink<number>({
    url,
    topic,
    qos: 1,
    maxInFlight: 100,
    serializer: String,
    protocolVersion: 5,
  }).createWriter(context) as MqttSinkWriter<number>
  try {
    for (let n = 0; n < 99; n++) writer.write(n)
    assert.is(writer.ready(), undefined, '99 in flight: room for one more')
    writer.write(99)
    const held = writer.ready()
    assert.instance(held, Promise, '100 in flight: wait')
    await held
    for (let n = 100; n < 250; n++) writer.write(n)
    assert.ok(writer.inFlight > 0)
    assert.equal(await writer.snapshotState(), [])
    assert.is(writer.inFlight, 0, 'nothing unacknowledged once the barrier passed')
    assert.is(writer.published, 250, 'every publish acknowledged')
    await waitFor(() => sub.payloads.length === 250, { timeoutMs: 5000 })
  } finally {
    await writer.close()
    await sub.end()
  }
})

MqttSinkSuite('a barrier waits for the publishes before it only; the writer goes on publishing meanwhile', async () => {
  const url = mosquitto.urlOf(BROKERS[0]!)
  const { topic } = unique('epochs')
  const sub = await subscriber(url, topic, 5)
  const writer = new MqttSink<number>({
    url,
    topic,
    qos: 1,
    maxInFlight: 10_000,
    serializer: String,
    protocolVersion: 5,
  }).createWriter(context) as MqttSinkWriter<number>
  try {
    assert.ok(writer.writesWhileSnapshotting, 'the subtask need not hold its input during a snapshot')
    for (let n = 0; n < 2_000; n++) writer.write(n)
    let publishedAtFirst = -1
    const first = writer.snapshotState().then(() => (publishedAtFirst = writer.published))
    for (let n = 2_000; n < 6_000; n++) writer.write(n)
    let publishedAtSecond = -1
    const second = writer.snapshotState().then(() => (publishedAtSecond = writer.published))
    for (let n = 6_000; n < 8_000; n++) writer.write(n)
    await first
    assert.ok(
      publishedAtFirst >= 2_000,
      `the first barrier passed with ${publishedAtFirst} of its 2,000 publishes acknowledged`,
    )
    await second
    assert.ok(
      publishedAtSecond >= 6_000,
      `the second barrier passed with ${publishedAtSecond} of its 6,000 acknowledged`,
    )
    await writer.flush()
    assert.is(writer.published, 8_000)
    await waitFor(() => sub.payloads.length === 8_000, { timeoutMs: 5000 })
  } finally {
    await writer.close()
    await sub.end()
  }
})

MqttSinkSuite('a later barrier waits for the publishes of an earlier one that are still unacknowledged', async () => {
  const url = mosquitto.urlOf(BROKERS[0]!)
  const { topic } = unique('epoch-order')
  const writer = new MqttSink<number>({ url, topic, qos: 1, serializer: String, protocolVersion: 5 }).createWriter(
    context,
  ) as MqttSinkWriter<number>
  // the broker's acknowledgements, held here to hand them back in any order
  const acks: Array<(error?: Error) => void> = []
  const client = writer.connection.client
  const publish = client.publish.bind(client)
  client.publish = ((_topic: string, _payload: string, _options: unknown, callback: (error?: Error) => void) =>
    void acks.push(callback)) as unknown as typeof client.publish
  try {
    writer.write(1)
    let firstDone = false
    let secondDone = false
    const first = writer.snapshotState().then(() => (firstDone = true))
    writer.write(2)
    const second = writer.snapshotState().then(() => (secondDone = true))
    acks[1]!() // the publish after the first barrier is acknowledged first
    // all an acknowledgement sets off is promise continuations: once the microtask queue has drained
    // (the next macrotask), the second barrier would have passed if it did not wait for the first epoch
    await new Promise((resolve) => setImmediate(resolve))
    assert.is(writer.inFlight, 1, 'the acknowledgement was counted')
    assert.not.ok(secondDone, 'the second barrier does not pass while a publish before the first is unacknowledged')
    assert.not.ok(firstDone)
    acks[0]!()
    await Promise.all([first, second])
    assert.is(writer.published, 2)
  } finally {
    client.publish = publish
    await writer.close()
  }
})

for (const broker of [BROKERS[0]!, BROKERS[2]!]) {
  MqttSinkSuite(
    `${broker.name}: 5,000 records through an injected failure and a restore, every one delivered`,
    async () => {
      const url = mosquitto.urlOf(broker)
      const { topic } = unique('restore')
      const sub = await subscriber(url, topic, broker.protocolVersion)
      try {
        const fault = sharedRecord({ failed: false })
        const env = StreamEnvironment.create({
          logLevel: 'silent',
          checkpointing: { intervalMs: 10 },
          restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
        })
        env
          .fromSequence(0, 4999, { uid: 'numbers' })
          .pipe(
            map(
              (n: number) => {
                if (!fault.failed && n === 3000) {
                  fault.failed = true
                  throw new Error('injected')
                }
                return n
              },
              { uid: 'faulty' },
            ),
          )
          .sinkTo(new MqttSink<number>({ url, topic, protocolVersion: broker.protocolVersion, serializer: String }), {
            uid: 'mqtt',
          })
        const result = await env.execute()
        assert.is(result.metrics.restarts, 1)
        await waitFor(() => new Set(sub.payloads).size === 5000, {
          timeoutMs: 15_000,
          description: `5,000 distinct (have ${new Set(sub.payloads).size})`,
        })
        assert.equal(census(sub.payloads.map(Number), 5000).missing, [])
      } finally {
        await sub.end()
      }
    },
  )
}

MqttSinkSuite('reconnects after a Mosquitto restart mid-stream; every message arrives', async () => {
  const broker = await PrivateMosquitto.start()
  const { topic } = unique('restart')
  const sub = await subscriber(broker.url, topic, 5)
  try {
    const count = sharedRecord({ produced: 0 })
    const sink = new MqttSink<number>({
      url: broker.url,
      topic,
      protocolVersion: 5,
      serializer: String,
      retry: { maxRetries: 50, initialDelayMs: 20, maxDelayMs: 200 },
    })
    const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 20 } })
    env
      .fromAsyncIterable(async function* () {
        for (let n = 0; n < 8000; n++) {
          if (n % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 1))
          count.produced = n
          yield n
        }
      })
      .sinkTo(sink)
    const job = env.executeAsync()
    await waitFor(() => count.produced >= 2000, { timeoutMs: 15_000, description: '2,000 produced' })
    await broker.restart('SIGTERM')
    const result = await job.result
    await waitFor(() => new Set(sub.payloads).size === 8000, {
      timeoutMs: 20_000,
      description: `8,000 distinct (have ${new Set(sub.payloads).size})`,
    })
    assert.equal(census(sub.payloads.map(Number), 8000).missing, [])
    assert.is(result.metrics.restarts, 0, 'no job restart: the writer itself reconnected')
    const connections = result.metrics.connectors.find((c) => c.connector === sink.name)?.gauges.connections
    assert.ok(connections !== undefined && connections >= 2, `it reconnected (connections: ${connections})`)
  } finally {
    await sub.end()
    await broker.dispose()
  }
})

MqttSinkSuite('an unreachable broker fails the job with ERR_CONNECT after the configured retries', async () => {
  const port = await freePort()
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env
    .fromCollection([1, 2, 3])
    .sinkTo(new MqttSink({ url: `mqtt://127.0.0.1:${port}`, topic: 't', retry: { maxRetries: 2, initialDelayMs: 10 } }))
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
      `mqttSink mqtt://127\\.0\\.0\\.1:${port}: no connection after 3 attempts \\(maxRetries 2\\): .*ECONNREFUSED`,
    ),
  )
})

MqttSinkSuite.run()

import { randomUUID } from 'node:crypto'
import mqtt, { type MqttClient } from 'mqtt'
import type { MqttMessage, MqttReader } from '../../../lib/connectors/mqtt/index.js'
import type { SourceOutput, SourceReaderContext } from '../../../lib/runtime/source.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { PrivateMosquitto, SHARED } from '../../support/brokers.js'
import { coordinatorOnly, passValue } from '../../support/worker-pass/pass-context.js'

/** A broker and protocol version a behaviour is proven against. */
export interface BrokerUnderTest {
  readonly name: string
  readonly kind: 'mosquitto' | 'activemq'
  readonly protocolVersion: 4 | 5
}

/**
 * The brokers every MQTT behaviour is proven against: Mosquitto (MQTT 5 and 3.1.1) and ActiveMQ's
 * MQTT transport (3.1.1 only; scripts/services.d/40-activemq.sh). The Mosquitto is a private one on
 * its own port without queue limits (see {@link MosquittoForSuite}).
 */
export const BROKERS: readonly BrokerUnderTest[] = [
  { name: 'Mosquitto (MQTT 5)', kind: 'mosquitto', protocolVersion: 5 },
  { name: 'Mosquitto (MQTT 3.1.1)', kind: 'mosquitto', protocolVersion: 4 },
  { name: 'ActiveMQ (MQTT 3.1.1)', kind: 'activemq', protocolVersion: 4 },
]

/**
 * A private Mosquitto for a suite, started in its `before` and removed in its `after`. Private because
 * the machine's keeps at most 1,000 queued messages per client (`max_queued_messages`) and drops the
 * rest silently, which a test of many thousands messages would trip over.
 */
export class MosquittoForSuite {
  broker: PrivateMosquitto | undefined

  async start(): Promise<void> {
    this.broker = await PrivateMosquitto.start()
  }

  async stop(): Promise<void> {
    await this.broker?.dispose()
  }

  /** The URL of a broker under test. */
  urlOf(broker: BrokerUnderTest): string {
    if (broker.kind === 'activemq') return SHARED.activemqMqtt
    if (this.broker === undefined) throw new Error('the private mosquitto is not started')
    return this.broker.url
  }
}

/**
 * A topic and a client id no other test uses (in a worker of the worker-executor test pass replaying
 * the test, the coordinator's).
 *
 * @example
 * const { topic, clientId } = unique('restore')
 */
export function unique(name: string): { topic: string; clientId: string } {
  const id = passValue(() => randomUUID().slice(0, 8))
  return { topic: `sluice-spec/${name}/${id}`, clientId: `sluice-spec-${name}-${id}` }
}

/**
 * A plain publisher (QoS 1 unless told), connected. In a worker of the worker-executor test pass
 * replaying a test, none (`coordinatorOnly`): the coordinator's publishes; before the job the worker
 * hosts, a client whose publishes and end do nothing.
 */
export function publisher(url: string, protocolVersion: 4 | 5 = 4): Promise<MqttClient> {
  const silent = { publishAsync: async () => undefined, endAsync: async () => {} } as unknown as MqttClient
  return coordinatorOnly(
    () =>
      mqtt.connectAsync(url, {
        protocolVersion,
        clientId: `sluice-spec-pub-${randomUUID().slice(0, 8)}`,
        reconnectPeriod: 50,
      }),
    silent,
  )
}

/**
 * Publishes the numbers from … from+count-1 as payloads, with up to 200 unacknowledged at once.
 *
 * @example
 * await publishNumbers(client, topic, 5000)
 */
export async function publishNumbers(
  client: MqttClient,
  topic: string,
  count: number,
  from = 0,
  qos: 0 | 1 | 2 = 1,
  payload = (n: number): string => String(n),
): Promise<void> {
  const inFlight = new Set<Promise<unknown>>()
  for (let n = from; n < from + count; n++) {
    const p = client.publishAsync(topic, payload(n), { qos }).finally(() => inFlight.delete(p))
    inFlight.add(p)
    if (inFlight.size >= 200) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
}

export const context: SourceReaderContext = { subtask: 0, parallelism: 1, processingTime: systemProcessingTime }

/** Polls a reader by hand for `ms`, collecting payloads as strings. */
export async function drain(
  reader: MqttReader,
  into: string[],
  until: () => boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const output: SourceOutput<MqttMessage> = {
    collect: (m) => void into.push(m.payload.toString()),
    emitWatermark() {},
    markIdle() {},
  }
  const deadline = performance.now() + timeoutMs
  for (;;) {
    while (reader.pollNext(output) === 'more');
    if (until()) return
    if (performance.now() > deadline) throw new Error(`drain: not done within ${timeoutMs} ms (have ${into.length})`)
    await Promise.race([reader.isAvailable(), new Promise((resolve) => setTimeout(resolve, 20))])
  }
}

/**
 * Ends the broker's session of `clientId` (a clean connection with that id): tests leave no durable
 * subscription holding messages behind on the shared ActiveMQ. On the coordinator only
 * (`coordinatorOnly`): a worker replaying the test would end the session of the job's reader.
 */
export function forgetSession(url: string, clientId: string): Promise<void> {
  return coordinatorOnly(() => cleanConnect(url, clientId), undefined)
}

async function cleanConnect(url: string, clientId: string): Promise<void> {
  try {
    const client = await mqtt.connectAsync(url, {
      clientId,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    })
    await client.endAsync()
  } catch {
    // the broker is gone (a test that stopped it): nothing to forget
  }
}

/** Waits `ms` (for "nothing more arrives" checks only, never to synchronise). */
export const quietFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

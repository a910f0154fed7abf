import { mqtt } from './connection.js'
import { MqttReader } from './reader.js'
import type { Source, SourceReaderContext } from '../../runtime/source.js'
import { type MqttMessage, type MqttSourceOptions, type MqttSourceSettings, validateSourceOptions } from './options.js'

/**
 * Subscribes to MQTT topics with QoS 0, 1 or 2 in a persistent session (the client id, clean false).
 *
 * - Acknowledgement: with QoS 1/2 the PUBACK/PUBREC of a message is sent only after the checkpoint
 *   covering it completes; until then the broker keeps the message and delivers it again after a
 *   reconnection or a restart. A redelivery of a message still held is not emitted twice.
 * - Backpressure: at most `maxBuffered` messages wait for the job and at most `maxUnacknowledged` QoS
 *   1/2 messages are unacknowledged; when either is reached the client stops handling packets, mqtt.js
 *   stops reading its socket, and the broker's sending stalls (TCP). With MQTT 5 `maxUnacknowledged` is
 *   also the Receive Maximum the broker must keep to; with 3.1.1 the broker's own in-flight limit
 *   applies (Mosquitto's `max_inflight_messages`, default 20, caps throughput to that many messages
 *   per checkpoint: raise it, or use MQTT 5).
 * - Reconnection with backoff; ConnectorError 'ERR_CONNECT' after `retry.maxRetries` failed retries, and
 *   'ERR_SUBSCRIBE' when the broker refuses a subscription.
 *
 * Guarantee: **at-least-once** with QoS 1/2 (a restored job receives again the messages emitted after
 * its checkpoint, and a reconnection may redeliver messages whose acknowledgement the broker did not
 * get); **at-most-once** with QoS 0. One subtask (one client id, one session): maxParallelism 1.
 *
 * mqtt.js has no manual-acknowledgement API: its `customHandleAcks` and `handleMessage` hooks run
 * before the acknowledgement but hold up every later packet until they return, so the reader uses them
 * only to take messages in (and to stall under backpressure), and holds the acknowledgements back at
 * the client's packet writer (`_sendPacket`). spec/connectors/mqtt pins this against real brokers.
 *
 * @example
 * env.fromSource(new MqttSource({ url: 'mqtt://127.0.0.1:1883', topics: 'sensors/#', clientId: 'ingest', qos: 1 }), { uid: 'sensors' })
 *   .pipe(decode((m: MqttMessage) => JSON.parse(m.payload.toString())))
 */
export class MqttSource implements Source<MqttMessage, never> {
  readonly name = 'mqtt'
  readonly bounded = false
  readonly maxParallelism = 1
  readonly commitsOnCheckpoint = true
  readonly acknowledgesOnCheckpoint: boolean
  readonly settings: MqttSourceSettings

  constructor(options: MqttSourceOptions) {
    mqtt.check('mqttSource')
    this.settings = validateSourceOptions(options)
    this.acknowledgesOnCheckpoint = this.settings.qos > 0
  }

  /**
   * The reader; it connects and subscribes in `start()`.
   *
   * @example
   * const reader = source.createReader({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createReader(context: SourceReaderContext): MqttReader {
    return new MqttReader(this.settings, context)
  }
}

import type { MqttSinkOptions, MqttSourceOptions } from './options.js'
import { MqttSink } from './sink.js'
import { MqttSource } from './source.js'

export { MqttConnection } from './connection.js'
export { DeferredAcks, type AckPacket } from './deferred-acks.js'
export {
  defaultSerializer,
  type MqttConnectionOptions,
  type MqttSinkOptions,
  type MqttSourceOptions,
  type QoS,
} from './options.js'
export type { MqttMessage } from './options.js'
export { MqttReader } from './reader.js'
export { MqttSink } from './sink.js'
export { MqttSinkWriter } from './writer.js'
export { MqttSource } from './source.js'

/**
 * A source subscribing to MQTT topics in a persistent session, acknowledging QoS 1/2 messages when
 * the checkpoint covering them completes. At-least-once (QoS 1/2), at-most-once (QoS 0).
 *
 * @example
 * env.fromSource(mqttSource({ url: 'mqtt://127.0.0.1:1883', topics: ['sensors/+/temp'], clientId: 'temps' }), { uid: 'temps' })
 */
export function mqttSource(options: MqttSourceOptions): MqttSource {
  return new MqttSource(options)
}

/**
 * A sink publishing every record with a QoS and the retain flag; a checkpoint completes once every
 * publish before its barrier is acknowledged. At-least-once (QoS 1/2), at-most-once (QoS 0).
 *
 * @example
 * stream.sinkTo(mqttSink({ url: 'mqtt://127.0.0.1:1883', topic: 'out', qos: 1 }))
 */
export function mqttSink<T>(options: MqttSinkOptions<T>): MqttSink<T> {
  return new MqttSink(options)
}

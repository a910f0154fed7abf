import { mqtt } from './connection.js'
import { MqttSinkWriter } from './writer.js'
import type { Sink, SinkWriterContext } from '../../runtime/sink.js'
import { type MqttSinkOptions, type MqttSinkSettings, validateSinkOptions } from './options.js'

/**
 * Publishes every record to an MQTT broker with a QoS and the retain flag. Each subtask has its own
 * client (clean session).
 *
 * At most `maxInFlight` publishes wait for their acknowledgement (PUBACK for QoS 1, PUBCOMP for QoS 2;
 * the socket write for QoS 0) before `ready()` holds the job back. A checkpoint completes once every
 * publish before its barrier is acknowledged (the writer goes on publishing later records meanwhile);
 * at the end of input the writer waits for every publish. After a dropped
 * connection it reconnects with backoff and mqtt.js sends the unacknowledged QoS 1/2 publishes again.
 *
 * Guarantee: **at-least-once** with QoS 1/2 (a checkpoint completes only when the broker acknowledged
 * everything before its barrier; a restored job publishes the records after it again, and a resend
 * after a reconnection can duplicate a message whose acknowledgement was lost); **at-most-once** with
 * QoS 0. ConnectorError 'ERR_CONNECT' after `retry.maxRetries` failed retries; 'ERR_PUBLISH' when the broker
 * refuses a publish.
 *
 * @example
 * alerts.sinkTo(new MqttSink({ url: 'mqtt://127.0.0.1:1883', topic: (a: Alert) => `alerts/${a.site}`, qos: 1, retain: true }))
 */
export class MqttSink<T> implements Sink<T> {
  readonly name = 'mqtt'
  readonly guarantee: 'at-least-once' | 'at-most-once'
  readonly settings: MqttSinkSettings<T>

  constructor(options: MqttSinkOptions<T>) {
    mqtt.check('mqttSink')
    this.settings = validateSinkOptions(options)
    this.guarantee = this.settings.qos === 0 ? 'at-most-once' : 'at-least-once'
  }

  /**
   * The writer of one subtask; it connects at once and publishes while connecting (mqtt.js queues).
   *
   * @example
   * const writer = sink.createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createWriter(context: SinkWriterContext): MqttSinkWriter<T> {
    return new MqttSinkWriter(this.settings, context)
  }
}

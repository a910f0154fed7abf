import { randomUUID } from 'node:crypto'
import { ConnectorError, messageOf } from '../../errors.js'
import type { Sink, SinkWriter, SinkWriterContext } from '../../runtime/sink.js'
import { MqttConnection } from './connection.js'
import { type MqttSinkOptions, type MqttSinkSettings, validateSinkOptions } from './options.js'

/**
 * Publishes every record to an MQTT broker with a QoS and the retain flag. Each subtask has its own
 * client (clean session).
 *
 * At most `maxInFlight` publishes wait for their acknowledgement (PUBACK for QoS 1, PUBCOMP for QoS 2;
 * the socket write for QoS 0) before `ready()` holds the job back. On every checkpoint barrier and at
 * the end of input the writer waits until every publish so far is acknowledged. After a dropped
 * connection it reconnects with backoff and mqtt.js sends the unacknowledged QoS 1/2 publishes again.
 *
 * Guarantee: **at-least-once** with QoS 1/2 (a checkpoint completes only when the broker acknowledged
 * everything before its barrier; a restored job publishes the records after it again, and a resend
 * after a reconnection can duplicate a message whose acknowledgement was lost); **at-most-once** with
 * QoS 0. ConnectorError 'ERR_CONNECT' after `maxRetries` failed retries; 'ERR_PUBLISH' when the broker
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

/**
 * The writer of {@link MqttSink}. `published` counts acknowledged publishes, `inFlight` the others.
 *
 * @example
 * const writer = new MqttSink<string>({ url, topic: 'out' }).createWriter(context)
 * writer.write('hello', undefined)
 * await writer.flush()
 */
export class MqttSinkWriter<T> implements SinkWriter<T> {
  readonly connection: MqttConnection
  /** Publishes sent and not yet acknowledged. */
  inFlight = 0
  /** Publishes acknowledged. */
  published = 0
  private failure: ConnectorError | undefined
  private slotWaiters: (() => void)[] = []
  private drainWaiters: { resolve: () => void; reject: (error: Error) => void }[] = []
  private readonly done: (error?: Error) => void

  constructor(private readonly settings: MqttSinkSettings<T>, context: SinkWriterContext) {
    const clientId = settings.clientId === undefined ? `sluice-sink-${randomUUID().slice(0, 8)}-${context.subtask}` : `${settings.clientId}-${context.subtask}`
    this.connection = new MqttConnection(settings, { clientId, clean: true, queueQoSZero: true }, 'mqttSink', context.processingTime)
    this.connection.onFailure((error) => this.fail(error))
    void this.connection.start().catch(() => {})
    // one callback for every publish: no closure per record
    this.done = (error?: Error) => {
      this.inFlight--
      // mqtt.js fails publishes only when it gives them up (the client ended, the broker refused one)
      if (error !== undefined && error !== null) this.fail(this.connection.failure ?? new ConnectorError('ERR_PUBLISH', `mqttSink ${settings.url}: a publish failed: ${messageOf(error)}`, { cause: error }))
      else this.published++
      // resume at half the window, not at every acknowledgement: each pause and resumption of the job costs a turn
      if (this.slotWaiters.length > 0 && this.inFlight <= this.settings.maxInFlight / 2) this.wakeSlots()
      if (this.inFlight === 0 && this.drainWaiters.length > 0) this.wakeDrain()
    }
  }

  write(record: T, _timestamp?: number): void {
    if (this.failure !== undefined) throw this.failure
    const { topic, serializer, qos, retain } = this.settings
    this.inFlight++
    this.connection.client.publish(topic(record), serializer(record), { qos, retain: retain(record) }, this.done)
  }

  ready(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.inFlight < this.settings.maxInFlight) return undefined
    return new Promise<void>((resolve) => this.slotWaiters.push(resolve))
  }

  /** Resolves when every publish so far is acknowledged; rejects with the first failure. */
  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.inFlight === 0) return Promise.resolve()
    return new Promise<void>((resolve, reject) => this.drainWaiters.push({ resolve, reject }))
  }

  /** On a barrier: every publish before it acknowledged (at-least-once); no state to keep. */
  async snapshotState(): Promise<unknown[]> {
    await this.flush()
    return []
  }

  async close(): Promise<void> {
    await this.connection.close()
  }

  private fail(error: ConnectorError): void {
    this.failure ??= error
    this.wakeSlots()
    const waiters = this.drainWaiters
    this.drainWaiters = []
    for (const waiter of waiters) waiter.reject(error)
  }

  private wakeSlots(): void {
    const waiters = this.slotWaiters
    this.slotWaiters = []
    for (const resolve of waiters) resolve()
  }

  private wakeDrain(): void {
    const waiters = this.drainWaiters
    this.drainWaiters = []
    for (const waiter of waiters) waiter.resolve()
  }
}

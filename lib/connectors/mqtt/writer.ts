import { randomUUID } from 'node:crypto'
import { ConnectorError, messageOf } from '../../errors.js'
import type { SinkWriter, SinkWriterContext } from '../../runtime/sink.js'
import { Deferred } from '../../util/deferred.js'
import { MqttConnection } from './connection.js'
import type { MqttSinkSettings } from './options.js'

/**
 * The publishes between two barriers: how many still wait for their acknowledgement, and who waits for
 * them all. One callback per epoch serves all its publishes (no closure per record).
 */
class AckEpoch {
  pending = 0
  private closed = false
  /** Made when someone waits for the epoch. */
  private whenDone: Deferred | undefined

  constructor(readonly done: (error?: Error) => void) {}

  /** No more publishes join this epoch; resolves when the last of them is acknowledged. */
  close(): Promise<void> {
    this.closed = true
    if (this.pending === 0) return Promise.resolve()
    this.whenDone ??= new Deferred()
    return this.whenDone.promise
  }

  /** One of its publishes settled; the waiters resolve when it was the last of a closed epoch. */
  settled(): void {
    if (--this.pending === 0 && this.closed) this.whenDone?.resolve()
  }

  fail(error: Error): void {
    this.whenDone?.reject(error)
  }
}

/**
 * The writer of {@link MqttSink}. `published` counts acknowledged publishes, `inFlight` the others;
 * the job's metrics have its `connections` gauge (more than one: it reconnected).
 *
 * A barrier closes the current epoch of publishes and the checkpoint waits for that epoch only: the
 * writer goes on publishing the records after the barrier meanwhile, so a checkpoint does not drain the
 * pipeline (a Flink at-least-once sink blocks in its flush instead).
 *
 * @example
 * const writer = new MqttSink<string>({ url, topic: 'out' }).createWriter(context)
 * writer.write('hello', undefined)
 * await writer.flush()
 */
export class MqttSinkWriter<T> implements SinkWriter<T> {
  readonly connection: MqttConnection
  readonly writesWhileSnapshotting = true
  /** Publishes sent and not yet acknowledged. */
  inFlight = 0
  /** Publishes acknowledged. */
  published = 0
  private failure: ConnectorError | undefined
  /** Made when `ready()` makes the job wait; resolved at half the window. */
  private slotFreed: Deferred | undefined
  /** Made when `flush()` waits; settled when nothing is in flight, or at the first failure. */
  private drained: Deferred | undefined
  private readonly open = new Set<AckEpoch>()
  private epoch: AckEpoch

  constructor(
    private readonly settings: MqttSinkSettings<T>,
    context: SinkWriterContext,
  ) {
    const clientId =
      settings.clientId === undefined
        ? `sluice-sink-${randomUUID().slice(0, 8)}-${context.subtask}`
        : `${settings.clientId}-${context.subtask}`
    this.connection = new MqttConnection(
      settings,
      { clientId, clean: true, queueQoSZero: true },
      'mqttSink',
      context.processingTime,
    )
    this.connection.onFailure((error) => this.fail(error))
    context.metrics?.gauge('connections', () => this.connection.connections)
    void this.connection.start().catch(() => {})
    this.epoch = this.newEpoch()
  }

  write(record: T, _timestamp?: number): void {
    if (this.failure !== undefined) throw this.failure
    const { topic, serializer, qos, retain } = this.settings
    this.inFlight++
    this.epoch.pending++
    this.connection.client.publish(topic(record), serializer(record), { qos, retain: retain(record) }, this.epoch.done)
  }

  ready(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.inFlight < this.settings.maxInFlight) return undefined
    this.slotFreed ??= new Deferred()
    return this.slotFreed.promise
  }

  /** Resolves when every publish so far is acknowledged; rejects with the first failure. */
  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.inFlight === 0) return Promise.resolve()
    this.drained ??= new Deferred()
    return this.drained.promise
  }

  /**
   * On a barrier: resolves when every publish before it is acknowledged (at-least-once), the epochs of
   * earlier barriers still pending included (a later checkpoint may start before an earlier one
   * completed, and completing it subsumes the earlier); no state to keep.
   */
  async snapshotState(): Promise<unknown[]> {
    if (this.failure !== undefined) throw this.failure
    const closing = this.epoch
    this.epoch = this.newEpoch()
    const earlierAndThis = [...this.open].filter((epoch) => epoch !== this.epoch)
    try {
      await Promise.all(earlierAndThis.map((epoch) => epoch.close()))
    } finally {
      this.open.delete(closing)
    }
    return []
  }

  async close(): Promise<void> {
    await this.connection.close()
  }

  /** An epoch whose callback counts its own publishes and the writer's. */
  private newEpoch(): AckEpoch {
    const epoch: AckEpoch = new AckEpoch((error?: Error) => {
      this.inFlight--
      // mqtt.js fails publishes only when it gives them up (the client ended, the broker refused one)
      if (error !== undefined && error !== null)
        this.fail(
          this.connection.failure ??
            new ConnectorError('ERR_PUBLISH', `mqttSink ${this.settings.url}: a publish failed: ${messageOf(error)}`, {
              cause: error,
            }),
        )
      else this.published++
      epoch.settled()
      // resume at half the window, not at every acknowledgement: each pause and resumption of the job costs a turn
      if (this.inFlight <= this.settings.maxInFlight / 2) this.wakeSlots()
      if (this.inFlight === 0) {
        this.drained?.resolve()
        this.drained = undefined
      }
    })
    this.open.add(epoch)
    return epoch
  }

  private fail(error: ConnectorError): void {
    this.failure ??= error
    this.wakeSlots()
    for (const epoch of this.open) epoch.fail(error)
    this.drained?.reject(error)
    this.drained = undefined
  }

  private wakeSlots(): void {
    this.slotFreed?.resolve()
    this.slotFreed = undefined
  }
}

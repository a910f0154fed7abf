import { ConnectorError } from '../../errors.js'
import { Availability } from '../../runtime/availability.js'
import { type Counter, MetricGroup } from '../../runtime/metric-group.js'
import type { DeliveryGuarantee } from '../../runtime/sink.js'
import type { InputStatus, SourceOutput, SourceReader, SourceReaderContext } from '../../runtime/source.js'
import { Deferred } from '../../util/deferred.js'
import { Fifo } from '../../util/fifo.js'
import { type AckStateV1, CheckpointAcks, type CompletedAcks } from './checkpoint-acks.js'
import { ReconnectLoop } from './reconnect-loop.js'
import type { RetrySettings } from './retry-options.js'

/** What a {@link QueueReaderBase} needs of the connector's settings. */
export interface QueueReaderSettings {
  /** The endpoint as messages name it, without credentials ('rabbitmqSource amqp://127.0.0.1:5672 queue q'). */
  readonly endpoint: string
  readonly guarantee: DeliveryGuarantee
  /** Exactly-once: how long the id of a message whose acknowledgement was lost is kept. */
  readonly dedupRetentionMs: number
  readonly retry: RetrySettings
}

/**
 * The part of a message-queue source reader that is not the broker's own (Flink's
 * MessageAcknowledgingSourceBase with the lifecycle of SourceReaderBase): deliveries wait in a buffer
 * until polled; each emitted message's handle goes into {@link CheckpointAcks}, acknowledged when the
 * checkpoint covering it completes (at-least-once, exactly-once with dedup by message id) or at once
 * (at-most-once); one connection at a time through a {@link ReconnectLoop}, whose loss voids what it
 * delivered (the broker redelivers it); `start` settles once the first subscription stands; the first
 * failure is thrown from `pollNext`; `close` stops reconnecting and closes the connection.
 *
 * A connector writes what is its own: `open` (connect and subscribe, calling `beginDelivering(session)`
 * as soon as the subscription may deliver and `deliver(session, delivery)` for each message),
 * `closeSession`, `isLost`, the delivery's parts (`messageOf`, `handleOf`, `idOf`), and how to
 * acknowledge (`acknowledge` for a completed checkpoint, `acknowledgeEmitted` for at-most-once). A
 * connection lost under it is reported with `lost(session, cause)`.
 *
 * Threading: every method runs on the event loop; client callbacks only buffer and signal. `pollNext`
 * allocates nothing per message. Bounds: the buffer holds what the broker's window (prefetch, credit)
 * lets it deliver unacknowledged.
 *
 * Metrics (the job's, labelled with the connector): `duplicates` (redeliveries recognised and not
 * emitted), `acknowledged`, and the gauges `unacknowledged`, `maxUnacknowledged`, `connections`.
 *
 * @example
 * class TubeReader extends QueueReaderBase<TubeJob, TubeJob, string, TubeClient> {
 *   protected async open() { const c = await TubeClient.connect(url); this.beginDelivering(c)
 *     c.reserve(tube, 1000, (job) => this.deliver(c, job)); return c }
 *   protected messageOf(job: TubeJob) { return job }
 *   protected handleOf(job: TubeJob) { return job.id }
 *   protected idOf(job: TubeJob) { return job.id }
 *   protected acknowledge(c: TubeClient, done: CompletedAcks<string>) { c.ack(done.handles.flat()); done.confirm() }
 *   protected acknowledgeEmitted(id: string) { this.delivering?.ack([id]) }
 *   protected isLost(c: TubeClient) { return c.closed }
 *   protected closeSession(c: TubeClient) { c.close() }
 * }
 */
export abstract class QueueReaderBase<D, M, H, S> implements SourceReader<M, AckStateV1> {
  protected readonly buffer = new Fifo<D>()
  private readonly available = new Availability()
  protected readonly acks: CheckpointAcks<H> | undefined
  private readonly loop: ReconnectLoop<S>
  /** The subscription that stands (its setup finished). */
  protected current: S | undefined
  /** The session deliveries come from: `current`, or one still being set up (it may deliver first). */
  protected delivering: S | undefined
  private failure: Error | undefined
  protected closed = false
  private started: Deferred | undefined
  /** The reader's counters (the job's metrics): `duplicates`, `acknowledged`, gauges, and the connector's own. */
  readonly metrics: MetricGroup
  private readonly duplicateCount: Counter
  private readonly acknowledged: Counter
  private maxUnacknowledged = 0

  constructor(
    /** The connector's name, the label of its metrics ('rabbitmq', 'activemq'). */
    connector: string,
    protected readonly base: QueueReaderSettings,
    context: SourceReaderContext,
    restored: readonly unknown[],
  ) {
    const { guarantee } = base
    const processingTime = context.processingTime
    this.acks =
      guarantee === 'at-most-once'
        ? undefined
        : new CheckpointAcks<H>(
            guarantee === 'exactly-once',
            base.dedupRetentionMs,
            () => processingTime.now(),
            restored,
          )
    this.metrics = context.metrics ?? new MetricGroup(connector)
    this.duplicateCount = this.metrics.counter('duplicates')
    this.acknowledged = this.metrics.counter('acknowledged')
    this.metrics.gauge('unacknowledged', () => this.unacknowledged)
    this.metrics.gauge('maxUnacknowledged', () => this.maxUnacknowledged)
    this.metrics.gauge('connections', () => this.loop.connections)
    this.loop = new ReconnectLoop<S>(base.retry, processingTime, base.endpoint, () => this.open(), {
      connected: (session) => {
        if (this.isLost(session)) {
          // what it delivered meanwhile is void
          this.buffer.clear()
          this.acks?.connectionLost()
          return this.loop.lost(new Error('connection closed while the subscription was set up'))
        }
        this.current = session
        this.started?.resolve()
        this.started = undefined
      },
      failed: (error) => this.fail(error),
      discard: (session) => void this.closeSession(session),
    })
  }

  /** Connects and subscribes; deliveries go to `deliver`. Rejects when it cannot (the loop retries). */
  protected abstract open(): Promise<S>
  /** Closes a session (its connection); never rejects. */
  protected abstract closeSession(session: S): Promise<void> | void
  /** Whether the session's connection is gone. */
  protected abstract isLost(session: S): boolean
  /** The message to emit for a delivery. */
  protected abstract messageOf(delivery: D): M
  /** What acknowledges the delivery (a delivery tag, an ack id). */
  protected abstract handleOf(delivery: D): H
  /** Exactly-once: the id that recognises a redelivery; undefined when the message has none. */
  protected abstract idOf(delivery: D): string | undefined
  /** Acknowledges `done.handles` on `session` (the one that delivered them), then `done.confirm()` once the broker processed them. */
  protected abstract acknowledge(session: S, done: CompletedAcks<H>): void
  /** At-most-once: the delivery was emitted; acknowledge it now (or with the next ones). */
  protected abstract acknowledgeEmitted(handle: H): void

  /** Exactly-once, a delivery without an id: throw, or dispose of it (it is then not emitted). */
  protected missingId(_delivery: D): void {
    throw new ConnectorError('ERR_MISSING_ID', `${this.base.endpoint}: exactly-once needs an id on every message`)
  }

  /** The buffer ran dry (`pollNext` returns 'nothing-available'). */
  protected drained(): void {}

  /** The connection that delivered the buffered and unacknowledged messages is gone. */
  protected deliveriesVoided(): void {}

  /** Connections made so far (reconnections included). */
  get connections(): number {
    return this.loop.connections
  }

  /** Redeliveries recognised by their id and not emitted (exactly-once): the `duplicates` metric. */
  get duplicates(): number {
    return this.metrics.value('duplicates')!
  }

  /** Delivered and not yet acknowledged now: buffered, plus emitted before a checkpoint completed. */
  get unacknowledged(): number {
    return this.buffer.size + (this.acks?.unacknowledged ?? 0)
  }

  /** Resolves once the subscription stands; rejects when no connection could be made. */
  start(): Promise<void> {
    this.started = new Deferred()
    const { promise } = this.started
    this.loop.start()
    return promise
  }

  pollNext(output: SourceOutput<M>): InputStatus {
    const { buffer, acks } = this
    let delivery = buffer.shift()
    while (delivery !== undefined) {
      if (acks === undefined) {
        output.collect(this.messageOf(delivery))
        this.acknowledgeEmitted(this.handleOf(delivery))
        break
      }
      if (!acks.dedup) {
        acks.take(this.handleOf(delivery), undefined)
        output.collect(this.messageOf(delivery))
        break
      }
      const id = this.idOf(delivery)
      if (id === undefined) this.missingId(delivery)
      else if (acks.take(this.handleOf(delivery), id)) {
        output.collect(this.messageOf(delivery))
        break
      } else this.duplicateCount.inc()
      delivery = buffer.shift()
    }
    if (buffer.size > 0) return 'more'
    if (this.failure !== undefined) throw this.failure
    this.drained()
    return 'nothing-available'
  }

  isAvailable(): Promise<void> {
    return this.available.promise
  }

  snapshotState(checkpointId: number): AckStateV1[] {
    return this.acks?.snapshot(checkpointId) ?? []
  }

  /** Acknowledges everything the completed checkpoint and earlier ones cover (a lost notice is subsumed). */
  notifyCheckpointComplete(checkpointId: number): void {
    const acks = this.acks
    if (acks === undefined) return
    const done = acks.complete(checkpointId)
    const session = this.delivering
    if (done.count === 0 || session === undefined || this.isLost(session)) return
    this.acknowledged.inc(done.count)
    this.acknowledge(session, done)
  }

  async close(): Promise<void> {
    this.closed = true
    this.loop.close()
    this.started?.reject(new ConnectorError('ERR_CLOSED', `${this.base.endpoint}: closed before it connected`))
    this.started = undefined
    const current = this.current
    this.current = undefined
    if (current !== undefined) await this.closeSession(current)
  }

  /** The session being set up may deliver from now on (its consumer is registered). */
  protected beginDelivering(session: S): void {
    this.delivering = session
  }

  /** A delivery arrived on `session`: buffered until polled (dropped when the session is void). */
  protected deliver(session: S, delivery: D): void {
    if (this.closed || this.isLost(session)) return
    const buffer = this.buffer
    buffer.push(delivery)
    const unacknowledged = buffer.size + (this.acks?.unacknowledged ?? 0)
    if (unacknowledged > this.maxUnacknowledged) this.maxUnacknowledged = unacknowledged
    if (buffer.size === 1) this.available.signal()
  }

  /** The connection of `session` is gone: its deliveries are void; connect again. */
  protected lost(session: S, cause: Error): void {
    if (this.closed) return
    if (this.delivering === session) {
      this.buffer.clear()
      this.acks?.connectionLost()
      this.deliveriesVoided()
    }
    // A session still being set up fails its open(), and the loop retries.
    if (this.current !== session) return
    this.current = undefined
    this.loop.lost(cause)
  }

  /** Fails the reader: `start` rejects, and `pollNext` throws `error` once the buffer is empty. */
  protected fail(error: Error): void {
    this.failure ??= error
    this.started?.reject(error)
    this.started = undefined
    this.available.signal()
  }
}

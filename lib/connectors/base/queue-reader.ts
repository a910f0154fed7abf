import { ConnectorError } from '../../errors.js'
import { Availability } from '../../runtime/availability.js'
import { type Counter, MetricGroup } from '../../runtime/metric-group.js'
import type { DeliveryGuarantee } from '../../runtime/sink.js'
import type { InputStatus, SourceOutput, SourceReader, SourceReaderContext } from '../../runtime/source.js'
import { Deferred } from '../../util/deferred.js'
import { Fifo } from '../../util/fifo.js'
import { AckWindow, type AckWindowGrowth } from './ack-window.js'
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
  /** The unacknowledged window before a rate was observed, in messages. */
  readonly prefetch: number
  /** The largest window, in messages (at most what the protocol allows). */
  readonly maxPrefetch: number
  /** Bytes that may wait unacknowledged at most: bounds the window as it grows. */
  readonly maxUnacknowledgedBytes: number
  /** How the window grows (default `'with-rate'`). */
  readonly windowGrowth?: AckWindowGrowth
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
 * The window: acknowledging on checkpoints caps throughput at window ÷ checkpoint interval, so the
 * window (the broker's prefetch or credit) starts at `prefetch` and is sized by an {@link AckWindow}
 * (up to `maxPrefetch`): when the reader runs dry with the whole window unacknowledged (at once the
 * first time, then at the next completed checkpoint), twice the observed rate × the checkpoint interval, within
 * half of `maxUnacknowledgedBytes` at the average message size (a slow downstream does not make it
 * grow); `'once-to-budget'` goes straight to that bound at the first such moment. The connector applies a new size with
 * `resizeWindow` (one call at a time; a newer size waits for the running call) and opens every new
 * subscription with `window`. At-most-once acknowledges at once and keeps `prefetch`.
 *
 * Threading: every method runs on the event loop; client callbacks only buffer and signal. `pollNext`
 * allocates nothing per message. Bounds: the buffer holds what the broker's window lets it deliver
 * unacknowledged.
 *
 * Metrics (the job's, labelled with the connector): `duplicates` (redeliveries recognised and not
 * emitted), `acknowledged`, `windowChanges`, and the gauges `unacknowledged`, `maxUnacknowledged`,
 * `unacknowledgedBytes`, `maxUnacknowledgedBytes`, `window`, `maxWindow`, `connections`.
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
 *   protected bytesOf(job: TubeJob) { return job.body.length }
 *   protected async resizeWindow(c: TubeClient, size: number) { await c.setCredit(size) }
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
  private maxUnacknowledgedBytes = 0
  /** The bytes of the buffered deliveries. */
  private bufferBytes = 0
  private readonly ackWindow: AckWindow | undefined
  private readonly windowChanges: Counter
  /** A resizeWindow call is running; `resized` is the size it applies. */
  private resizing = false
  private resized = 0

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
    this.metrics.gauge('unacknowledgedBytes', () => this.unacknowledgedBytes)
    this.metrics.gauge('maxUnacknowledgedBytes', () => this.maxUnacknowledgedBytes)
    this.metrics.gauge('connections', () => this.loop.connections)
    this.windowChanges = this.metrics.counter('windowChanges')
    this.ackWindow =
      this.acks === undefined
        ? undefined
        : new AckWindow(
            {
              initial: base.prefetch,
              max: base.maxPrefetch,
              maxBytes: base.maxUnacknowledgedBytes,
              checkpointIntervalMs: context.checkpointIntervalMs,
              growth: base.windowGrowth,
            },
            () => processingTime.now(),
          )
    this.resized = this.window
    this.metrics.gauge('window', () => this.window)
    this.metrics.gauge('maxWindow', () => this.ackWindow?.maxSize ?? base.prefetch)
    this.loop = new ReconnectLoop<S>(base.retry, processingTime, base.endpoint, () => this.open(), {
      connected: (session) => {
        if (this.isLost(session)) {
          // what it delivered meanwhile is void
          this.clearDeliveries()
          return this.loop.lost(new Error('connection closed while the subscription was set up'))
        }
        this.current = session
        // a resize that ran on the lost session: this one was opened with `window`
        this.resized = this.window
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
  /** The delivery's size in bytes (its body), counted against `maxUnacknowledgedBytes`. */
  protected abstract bytesOf(delivery: D): number
  /**
   * Asks the broker for a window of `size` unacknowledged messages on `session` (prefetch, credit)
   * without voiding what it delivered; resolves once it applies. A rejection is ignored (a lost
   * connection reconnects with `window`).
   */
  protected abstract resizeWindow(session: S, size: number): Promise<void>

  /** The unacknowledged window now, in messages: what a new subscription asks the broker for. */
  protected get window(): number {
    return this.ackWindow?.current ?? this.base.prefetch
  }

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

  /** The bytes delivered and not yet acknowledged now (buffered, or emitted before a checkpoint completed). */
  get unacknowledgedBytes(): number {
    return this.bufferBytes + (this.acks?.unacknowledgedBytes ?? 0)
  }

  /** Resolves once the subscription stands; rejects when no connection could be made. */
  start(): Promise<void> {
    this.started = new Deferred()
    const { promise } = this.started
    this.loop.start()
    return promise
  }

  pollNext(output: SourceOutput<M>): InputStatus {
    const { buffer, acks, ackWindow } = this
    let delivery = buffer.shift()
    while (delivery !== undefined) {
      const bytes = this.bytesOf(delivery)
      this.bufferBytes -= bytes
      if (acks === undefined) {
        output.collect(this.messageOf(delivery))
        this.acknowledgeEmitted(this.handleOf(delivery))
        break
      }
      if (!acks.dedup) {
        acks.take(this.handleOf(delivery), undefined, bytes)
        ackWindow!.taken(bytes)
        output.collect(this.messageOf(delivery))
        break
      }
      const id = this.idOf(delivery)
      if (id === undefined) this.missingId(delivery)
      else {
        ackWindow!.taken(bytes)
        if (acks.take(this.handleOf(delivery), id, bytes)) {
          output.collect(this.messageOf(delivery))
          break
        }
        this.duplicateCount.inc()
      }
      delivery = buffer.shift()
    }
    if (buffer.size > 0) return 'more'
    if (this.failure !== undefined) throw this.failure
    // ran dry with the whole window waiting for a checkpoint: the window is the limit, and may grow now
    if (ackWindow !== undefined && acks!.unacknowledged >= ackWindow.current && ackWindow.starved() !== undefined)
      this.applyWindow()
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
    if (done.count > 0 && session !== undefined && !this.isLost(session)) {
      this.acknowledged.inc(done.count)
      this.acknowledge(session, done)
    }
    if (this.ackWindow!.checkpointCompleted() !== undefined) this.applyWindow()
  }

  /** Applies `window` to the standing subscription, one resizeWindow call at a time. */
  private applyWindow(): void {
    const session = this.current
    if (this.resizing || session === undefined || this.closed || this.window === this.resized) return
    this.resizing = true
    this.resized = this.window
    this.windowChanges.inc()
    this.resizeWindow(session, this.resized)
      .catch(() => {})
      .finally(() => {
        this.resizing = false
        this.applyWindow()
      })
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
    this.bufferBytes += this.bytesOf(delivery)
    const unacknowledged = buffer.size + (this.acks?.unacknowledged ?? 0)
    if (unacknowledged > this.maxUnacknowledged) this.maxUnacknowledged = unacknowledged
    const bytes = this.bufferBytes + (this.acks?.unacknowledgedBytes ?? 0)
    if (bytes > this.maxUnacknowledgedBytes) this.maxUnacknowledgedBytes = bytes
    if (buffer.size === 1) this.available.signal()
  }

  /** The connection of `session` is gone: its deliveries are void; connect again. */
  protected lost(session: S, cause: Error): void {
    if (this.closed) return
    if (this.delivering === session) {
      this.clearDeliveries()
      this.deliveriesVoided()
    }
    // A session still being set up fails its open(), and the loop retries.
    if (this.current !== session) return
    this.current = undefined
    this.loop.lost(cause)
  }

  /** The buffered and unacknowledged deliveries are void (their connection is gone). */
  private clearDeliveries(): void {
    this.buffer.clear()
    this.bufferBytes = 0
    this.acks?.connectionLost()
  }

  /** Fails the reader: `start` rejects, and `pollNext` throws `error` once the buffer is empty. */
  protected fail(error: Error): void {
    this.failure ??= error
    this.started?.reject(error)
    this.started = undefined
    this.available.signal()
  }
}

import type { Channel, ChannelModel, ConsumeMessage, Message } from 'amqplib'
import { ConnectorError } from '../../errors.js'
import { Availability } from '../../runtime/availability.js'
import type { InputStatus, SourceOutput, SourceReader } from '../../runtime/source.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { type AckStateV1, CheckpointAcks } from '../base/checkpoint-acks.js'
import { Fifo } from '../../util/fifo.js'
import type { SourceSettings, RabbitMQMessage } from './options.js'
import { ReconnectLoop } from '../base/reconnect-loop.js'
import { amqplib, closeQuietly, isNotFound } from './connection.js'

interface Session {
  readonly model: ChannelModel
  readonly channel: Channel
  lost: boolean
}

/**
 * The reader of {@link RabbitMQSource}: one connection and channel, one consumer, a buffer bounded by
 * the prefetch, and the acknowledge-on-checkpoint bookkeeping. Counters let tests watch it.
 *
 * @example
 * const reader = new RabbitMQSource({ queue: 'q' }).createReader(context)
 * await reader.start()
 */
export class RabbitMQReader implements SourceReader<RabbitMQMessage, AckStateV1> {
  private readonly buffer = new Fifo<ConsumeMessage>()
  private readonly available = new Availability()
  private readonly acks: CheckpointAcks<number> | undefined
  private readonly loop: ReconnectLoop<Session>
  private readonly idProperty: 'correlationId' | 'messageId'
  private session: Session | undefined
  /** The session deliveries come from: `session`, or one still being set up (its consumer may deliver first). */
  private delivering: Session | undefined
  private failure: Error | undefined
  private closed = false
  private started: { resolve(): void; reject(error: Error): void } | undefined
  /** At-most-once: emitted since the last basic.ack, and the last delivery tag emitted. */
  private sinceAck = 0
  private lastTag = 0
  private readonly ackEvery: number
  /** The most messages delivered and not yet acknowledged at any moment (buffered + emitted). */
  maxUnacknowledged = 0
  /** Redeliveries recognised by their id and not emitted (exactly-once). */
  duplicates = 0
  /** Messages without an id rejected to the queue's dead-letter exchange (exactly-once, onMissingId 'reject'). */
  rejected = 0

  constructor(
    private readonly settings: SourceSettings,
    processingTime: ProcessingTimeService,
    restored: readonly unknown[],
  ) {
    const { guarantee } = settings
    this.acks =
      guarantee === 'at-most-once'
        ? undefined
        : new CheckpointAcks<number>(
            guarantee === 'exactly-once',
            settings.dedupRetentionMs,
            () => processingTime.now(),
            restored,
          )
    this.idProperty = settings.idProperty
    this.ackEvery = Math.max(1, settings.prefetch >> 1)
    this.loop = new ReconnectLoop<Session>(settings.retry, processingTime, settings.endpoint, () => this.open(), {
      connected: (session) => {
        if (session.lost) {
          // what it delivered meanwhile is void
          this.buffer.clear()
          this.acks?.connectionLost()
          return this.loop.lost(new Error('connection closed while the consumer was set up'))
        }
        this.session = session
        this.started?.resolve()
        this.started = undefined
      },
      failed: (error) => this.fail(error),
      discard: (session) => closeQuietly(session.model),
    })
  }

  /** Connections made so far (reconnections included). */
  get connections(): number {
    return this.loop.connections
  }

  /** Delivered and not yet acknowledged now: buffered, plus emitted before a checkpoint completed. */
  get unacknowledged(): number {
    return this.buffer.size + (this.acks?.unacknowledged ?? 0)
  }

  /** Resolves once the consumer is registered; rejects when no connection could be made. */
  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.started = { resolve, reject }
      this.loop.start()
    })
  }

  pollNext(output: SourceOutput<RabbitMQMessage>): InputStatus {
    let message = this.buffer.shift()
    while (message !== undefined) {
      const tag = message.fields.deliveryTag
      const acks = this.acks
      if (acks === undefined) {
        output.collect(message)
        this.lastTag = tag
        if (++this.sinceAck >= this.ackEvery || this.buffer.size === 0) this.ackEmitted()
        break
      }
      if (!acks.dedup) {
        acks.take(tag, undefined)
        output.collect(message)
        break
      }
      const raw = message.properties[this.idProperty] as unknown
      if (raw === undefined || raw === null || raw === '') {
        if (this.settings.onMissingId === 'fail') {
          throw new ConnectorError(
            'ERR_MISSING_ID',
            `${this.settings.endpoint}: exactly-once needs a ${this.idProperty} on every message; delivery ${tag} (routing key "${message.fields.routingKey}") has none (set onMissingId: 'reject' to dead-letter such messages)`,
          )
        }
        try {
          this.delivering?.channel.reject(message, false)
          this.rejected++
        } catch {
          // the channel is closing: the message comes again and is rejected then
        }
      } else if (acks.take(tag, String(raw))) {
        output.collect(message)
        break
      } else {
        this.duplicates++
      }
      message = this.buffer.shift()
    }
    if (this.buffer.size > 0) return 'more'
    if (this.failure !== undefined) throw this.failure
    return 'nothing-available'
  }

  isAvailable(): Promise<void> {
    return this.available.promise
  }

  snapshotState(checkpointId: number): AckStateV1[] {
    return this.acks?.snapshot(checkpointId) ?? []
  }

  /**
   * Acknowledges, with one basic.ack (`multiple`), everything the completed checkpoint and earlier ones
   * cover (a lost notice is subsumed). Exactly-once: the ids are forgotten once the broker answered a
   * queue.declare sent after the ack.
   */
  notifyCheckpointComplete(checkpointId: number): void {
    const acks = this.acks
    if (acks === undefined) return
    const done = acks.complete(checkpointId)
    const session = this.delivering
    if (done.count === 0 || session === undefined || session.lost) return
    const last = done.handles[done.handles.length - 1]!
    try {
      session.channel.ack({ fields: { deliveryTag: last[last.length - 1]! } } as Message, true)
    } catch {
      return // the channel is closing: the broker delivers these messages again
    }
    if (!acks.dedup) return
    // The broker handles a channel's methods in order: its answer means the basic.ack was processed.
    // Not awaited: later completions need not wait for this round trip (a closed channel rejects it,
    // and the ids stay remembered as orphans until the redeliveries come).
    session.channel.checkQueue(this.settings.queue).then(
      () => done.confirm(),
      () => {},
    )
  }

  async close(): Promise<void> {
    this.closed = true
    this.loop.close()
    this.started?.reject(new ConnectorError('ERR_CLOSED', `${this.settings.endpoint}: closed before it connected`))
    this.started = undefined
    const session = this.session
    this.session = undefined
    if (session !== undefined) {
      session.lost = true
      await closeQuietly(session.model, session.channel)
    }
  }

  private async open(): Promise<Session> {
    const { settings } = this
    const model = await amqplib.get('rabbitmqSource').connect(settings.url, {
      timeout: settings.retry.connectTimeoutMs,
      noDelay: true,
      clientProperties: { connection_name: settings.connectionName },
    })
    const session: Session = { model, channel: undefined as unknown as Channel, lost: false }
    // Without 'error' listeners a connection or channel error would be thrown as an uncaught exception.
    model.on('error', () => {})
    model.on('close', (error?: Error) => this.lost(session, error))
    try {
      const channel = await model.createChannel()
      ;(session as { channel: Channel }).channel = channel
      channel.on('error', () => {})
      channel.on('close', () => this.lost(session, new Error('channel closed by the broker')))
      this.delivering = session
      if (settings.declareQueue !== undefined) await channel.assertQueue(settings.queue, settings.declareQueue)
      else {
        await channel.checkQueue(settings.queue).catch((error: unknown) => {
          if (isNotFound(error))
            throw new ConnectorError(
              'ERR_NO_QUEUE',
              `${settings.endpoint}: the queue does not exist (create it, or set declareQueue)`,
              { cause: error },
            )
          throw error
        })
      }
      await channel.prefetch(settings.prefetch, false)
      await channel.consume(settings.queue, (message) => this.deliver(session, message), { noAck: false })
      return session
    } catch (error) {
      session.lost = true
      void closeQuietly(model)
      throw error
    }
  }

  private deliver(session: Session, message: ConsumeMessage | null): void {
    if (session.lost || this.closed) return
    if (message === null) {
      this.fail(
        new ConnectorError(
          'ERR_CONSUMER_CANCELLED',
          `${this.settings.endpoint}: the broker cancelled the consumer (queue deleted?)`,
        ),
      )
      return
    }
    this.buffer.push(message)
    const unacknowledged = this.buffer.size + (this.acks?.unacknowledged ?? 0)
    if (unacknowledged > this.maxUnacknowledged) this.maxUnacknowledged = unacknowledged
    if (this.buffer.size === 1) this.available.signal()
  }

  /** The connection or channel of `session` is gone: its deliveries are void; connect again. */
  private lost(session: Session, cause: Error | undefined): void {
    if (session.lost) return
    session.lost = true
    if (this.closed) return
    void closeQuietly(session.model)
    if (this.delivering === session) {
      this.buffer.clear()
      this.acks?.connectionLost()
      this.sinceAck = 0
    }
    // A session still being set up fails its open(), and the loop retries.
    if (this.session !== session) return
    this.session = undefined
    this.loop.lost(cause ?? new Error('connection closed'))
  }

  private ackEmitted(): void {
    this.sinceAck = 0
    try {
      this.delivering?.channel.ack({ fields: { deliveryTag: this.lastTag } } as Message, true)
    } catch {
      // the channel is closing; at-most-once tolerates the redelivery that may follow
    }
  }

  private fail(error: Error): void {
    this.failure ??= error
    this.started?.reject(error)
    this.started = undefined
    this.available.signal()
  }
}

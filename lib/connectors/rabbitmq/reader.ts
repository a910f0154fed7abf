import type { Channel, ChannelModel, ConsumeMessage, Message } from 'amqplib'
import { ConnectorError } from '../../errors.js'
import type { Counter } from '../../runtime/metric-group.js'
import type { SourceReaderContext } from '../../runtime/source.js'
import type { CompletedAcks } from '../base/checkpoint-acks.js'
import { QueueReaderBase } from '../base/queue-reader.js'
import { closeQuietly, connectAmqp, isNotFound } from './connection.js'
import type { RabbitMQMessage, SourceSettings } from './options.js'

interface Session {
  readonly model: ChannelModel
  readonly channel: Channel
  lost: boolean
  /** The consumer delivering now (a window change replaces it). */
  consumerTag: string
}

/**
 * The reader of {@link RabbitMQSource} on the {@link QueueReaderBase}: one connection and channel, one
 * consumer whose basic.qos is the window; acknowledgements are basic.acks with `multiple`. A window
 * change cancels the consumer and starts another with the new basic.qos on the same channel (RabbitMQ
 * applies a per-consumer basic.qos to new consumers only): what the old one delivered stays
 * unacknowledged on the channel, and its delivery tags stay valid. Besides
 * the base's metrics it counts `rejected` (messages without an id dead-lettered, exactly-once with
 * onMissingId 'reject').
 *
 * @example
 * const reader = new RabbitMQSource({ queue: 'q' }).createReader(context)
 * await reader.start()
 */
export class RabbitMQReader extends QueueReaderBase<ConsumeMessage, RabbitMQMessage, number, Session> {
  private readonly idProperty: 'correlationId' | 'messageId'
  private readonly rejected: Counter
  /** At-most-once: emitted since the last basic.ack, and the last delivery tag emitted. */
  private sinceAck = 0
  private lastTag = 0
  private readonly ackEvery: number

  constructor(
    private readonly settings: SourceSettings,
    context: SourceReaderContext,
    restored: readonly unknown[],
  ) {
    super('rabbitmq', settings, context, restored)
    this.idProperty = settings.idProperty
    this.ackEvery = Math.max(1, settings.prefetch >> 1)
    this.rejected = this.metrics.counter('rejected')
  }

  protected messageOf(message: ConsumeMessage): RabbitMQMessage {
    return message
  }

  protected bytesOf(message: ConsumeMessage): number {
    return message.content.length
  }

  protected handleOf(message: ConsumeMessage): number {
    return message.fields.deliveryTag
  }

  protected idOf(message: ConsumeMessage): string | undefined {
    const raw = message.properties[this.idProperty] as unknown
    return raw === undefined || raw === null || raw === '' ? undefined : String(raw)
  }

  protected override missingId(message: ConsumeMessage): void {
    if (this.settings.onMissingId === 'fail') {
      throw new ConnectorError(
        'ERR_MISSING_ID',
        `${this.settings.endpoint}: exactly-once needs a ${this.idProperty} on every message; delivery ${message.fields.deliveryTag} (routing key "${message.fields.routingKey}") has none (set onMissingId: 'reject' to dead-letter such messages)`,
      )
    }
    try {
      this.delivering?.channel.reject(message, false)
      this.rejected.inc()
    } catch {
      // the channel is closing: the message comes again and is rejected then
    }
  }

  /**
   * One basic.ack (`multiple`) up to the last delivery tag. Exactly-once: the ids are forgotten once
   * the broker answered a queue.declare sent after the ack.
   */
  protected acknowledge(session: Session, done: CompletedAcks<number>): void {
    const last = done.handles[done.handles.length - 1]!
    try {
      session.channel.ack({ fields: { deliveryTag: last[last.length - 1]! } } as Message, true)
    } catch {
      return // the channel is closing: the broker delivers these messages again
    }
    if (!this.acks!.dedup) return
    // The broker handles a channel's methods in order: its answer means the basic.ack was processed.
    // Not awaited: later completions need not wait for this round trip (a closed channel rejects it,
    // and the ids stay remembered as orphans until the redeliveries come).
    session.channel.checkQueue(this.settings.queue).then(
      () => done.confirm(),
      () => {},
    )
  }

  /** At-most-once: one basic.ack (`multiple`) per half prefetch, and whenever the buffer runs dry. */
  protected acknowledgeEmitted(tag: number): void {
    this.lastTag = tag
    if (++this.sinceAck < this.ackEvery && this.buffer.size > 0) return
    this.sinceAck = 0
    try {
      this.delivering?.channel.ack({ fields: { deliveryTag: this.lastTag } } as Message, true)
    } catch {
      // the channel is closing; at-most-once tolerates the redelivery that may follow
    }
  }

  protected override deliveriesVoided(): void {
    this.sinceAck = 0
  }

  protected isLost(session: Session): boolean {
    return session.lost
  }

  protected closeSession(session: Session): Promise<void> {
    session.lost = true
    return closeQuietly(session.model, session.channel)
  }

  protected async open(): Promise<Session> {
    const { settings } = this
    const model = await connectAmqp('rabbitmqSource', settings)
    const session: Session = { model, channel: undefined as unknown as Channel, lost: false, consumerTag: '' }
    // Without 'error' listeners a connection or channel error would be thrown as an uncaught exception.
    model.on('error', () => {})
    model.on('close', (error?: Error) => this.sessionLost(session, error))
    try {
      const channel = await model.createChannel()
      ;(session as { channel: Channel }).channel = channel
      channel.on('error', () => {})
      channel.on('close', () => this.sessionLost(session, new Error('channel closed by the broker')))
      this.beginDelivering(session)
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
      await this.consume(session, this.window)
      return session
    } catch (error) {
      session.lost = true
      void closeQuietly(model)
      throw error
    }
  }

  /** A new consumer (basic.qos `prefetch`, then basic.consume) on the session's channel. */
  private async consume(session: Session, prefetch: number): Promise<void> {
    const { channel } = session
    await channel.prefetch(prefetch, false)
    const { consumerTag } = await channel.consume(this.settings.queue, (message) => this.consumed(session, message), {
      noAck: false,
    })
    session.consumerTag = consumerTag
  }

  /** basic.cancel, then a consumer with the new basic.qos: nothing delivered is voided. */
  protected async resizeWindow(session: Session, size: number): Promise<void> {
    await session.channel.cancel(session.consumerTag)
    await this.consume(session, size)
  }

  private consumed(session: Session, message: ConsumeMessage | null): void {
    if (message !== null) return this.deliver(session, message)
    if (session.lost || this.closed) return
    this.fail(
      new ConnectorError(
        'ERR_CONSUMER_CANCELLED',
        `${this.settings.endpoint}: the broker cancelled the consumer (queue deleted?)`,
      ),
    )
  }

  /** The connection or channel of `session` is gone: close what is left of it, then the base reconnects. */
  private sessionLost(session: Session, cause: Error | undefined): void {
    if (session.lost) return
    session.lost = true
    if (this.closed) return
    void closeQuietly(session.model)
    this.lost(session, cause ?? new Error('connection closed'))
  }
}

import type { ChannelModel, ConfirmChannel, Message, Options } from 'amqplib'
import { ConnectorError } from '../../errors.js'
import type { Counter } from '../../runtime/metric-group.js'
import type { SinkWriterContext } from '../../runtime/sink.js'
import { Deferred } from '../../util/deferred.js'
import { ConfirmingWriter } from '../base/confirming-writer.js'
import { closeQuietly, connectAmqp, isNotFound } from './connection.js'
import type { RabbitMQPublish, SinkSettings } from './options.js'

/** The header that carries why a returned message was dead-lettered. */
export const UNROUTABLE_HEADER = 'x-sluice-unroutable'

interface PublishSession {
  readonly model: ChannelModel
  channel: ConfirmChannel | undefined
  lost: boolean
}

/**
 * The writer of {@link RabbitMQSink} on the {@link ConfirmingWriter}: one connection and confirm
 * channel (the window's sequence numbers are the channel's delivery tags). Besides the base's pauses,
 * `ready()` waits while the channel's write buffer is full and while the broker blocks the connection.
 * Besides the base's metrics it counts `returned` (messages the broker returned as unroutable) and
 * `deadLettered` (returned messages published to the dead-letter exchange).
 *
 * @example
 * const writer = new RabbitMQSink<string>({ exchange: '', routingKey: 'q' }).createWriter(context)
 * writer.write('hello', undefined)
 * await writer.flush()
 */
export class RabbitMQSinkWriter<T> extends ConfirmingWriter<T, RabbitMQPublish, PublishSession> {
  private readonly sharedOptions: Options.Publish
  private draining: Deferred | undefined
  private blocked: Deferred | undefined
  private readonly returned: Counter
  private readonly deadLettered: Counter

  constructor(
    private readonly settings: SinkSettings<T>,
    context: SinkWriterContext,
  ) {
    super('rabbitmq', settings, context)
    this.sharedOptions = { persistent: settings.persistent, mandatory: settings.mandatory }
    this.returned = this.metrics.counter('returned')
    this.deadLettered = this.metrics.counter('deadLettered')
    this.connect()
  }

  protected toMessage(value: T): RabbitMQPublish {
    const { settings } = this
    const options =
      settings.properties === undefined
        ? this.sharedOptions
        : { ...settings.properties(value), persistent: settings.persistent, mandatory: settings.mandatory }
    return {
      exchange: settings.exchange,
      routingKey: settings.routingKey(value),
      content: settings.serializer(value),
      options,
    }
  }

  protected override paused(): Promise<void> | undefined {
    return (this.draining ?? this.blocked)?.promise
  }

  protected isLost(session: PublishSession): boolean {
    return session.lost
  }

  protected closeSession(session: PublishSession): Promise<void> {
    session.lost = true
    return closeQuietly(session.model, session.channel)
  }

  protected async open(): Promise<PublishSession> {
    const { settings } = this
    const model = await connectAmqp('rabbitmqSink', settings)
    const session: PublishSession = { model, channel: undefined, lost: false }
    model.on('error', () => {})
    model.on('close', (error?: Error) => this.sessionLost(session, error))
    model.on('blocked', () => {
      this.blocked ??= new Deferred()
    })
    model.on('unblocked', () => this.unblock())
    try {
      const channel = await model.createConfirmChannel()
      session.channel = channel
      channel.on('error', () => {})
      channel.on('close', () => this.sessionLost(session, new Error('channel closed by the broker')))
      channel.on('ack', ({ deliveryTag, multiple }) => {
        if (!session.lost) this.window.confirm(deliveryTag, multiple)
      })
      channel.on('nack', ({ deliveryTag }) => {
        if (!session.lost)
          this.fail(
            new ConnectorError(
              'ERR_PUBLISH_NACKED',
              `${settings.endpoint}: the broker refused message ${deliveryTag} (basic.nack)`,
              { retriable: true },
            ),
          )
      })
      channel.on('return', (message: Message) => {
        if (!session.lost) this.onReturn(message)
      })
      channel.on('drain', () => this.drain())
      await this.checkExchange(channel, settings.exchange, settings.declareExchange)
      if (settings.onUnroutable === 'dead-letter')
        await this.checkExchange(channel, settings.deadLetterExchange!, undefined)
      return session
    } catch (error) {
      session.lost = true
      void closeQuietly(model)
      throw error
    }
  }

  private async checkExchange(channel: ConfirmChannel, exchange: string, declare: string | undefined): Promise<void> {
    if (exchange === '' || exchange.startsWith('amq.')) return
    if (declare !== undefined) {
      await channel.assertExchange(exchange, declare, { durable: true })
      return
    }
    await channel.checkExchange(exchange).catch((error: unknown) => {
      if (isNotFound(error))
        throw new ConnectorError(
          'ERR_NO_EXCHANGE',
          `${this.settings.endpoint}: exchange "${exchange}" does not exist (create it, or set declareExchange)`,
          { cause: error },
        )
      throw error
    })
  }

  /** Publishes on the confirm channel (its delivery tags count 1, 2, … as the window's numbers do). */
  protected send(session: PublishSession, message: RabbitMQPublish): boolean {
    let accepted: boolean
    try {
      accepted = session.channel!.publish(message.exchange, message.routingKey, message.content, message.options)
    } catch {
      return false // the channel is closing: the message is still unconfirmed and goes out on the next connection
    }
    if (!accepted) this.draining ??= new Deferred()
    return true
  }

  private onReturn(message: Message): void {
    this.returned.inc()
    const { exchange, routingKey, replyCode, replyText } = message.fields as Message['fields'] & {
      replyCode?: number
      replyText?: string
    }
    const reason = `${replyCode ?? '?'} ${replyText ?? 'returned'}`
    const headers = (message.properties.headers ?? {}) as Record<string, unknown>
    const { settings } = this
    if (settings.onUnroutable === 'fail' || headers[UNROUTABLE_HEADER] !== undefined) {
      const what =
        headers[UNROUTABLE_HEADER] !== undefined
          ? `a dead letter to exchange "${exchange}"`
          : `a message to exchange "${exchange}"`
      this.fail(
        new ConnectorError(
          'ERR_UNROUTABLE',
          `${settings.endpoint}: ${what} with routing key "${routingKey}" was returned unroutable (${reason})`,
        ),
      )
      return
    }
    const p = message.properties
    const letter: RabbitMQPublish = {
      exchange: settings.deadLetterExchange!,
      routingKey: settings.deadLetterRoutingKey ?? routingKey,
      content: message.content,
      options: {
        contentType: p.contentType,
        contentEncoding: p.contentEncoding,
        correlationId: p.correlationId,
        messageId: p.messageId,
        timestamp: p.timestamp,
        type: p.type,
        appId: p.appId,
        priority: p.priority,
        headers: {
          ...headers,
          [UNROUTABLE_HEADER]: reason,
          'x-sluice-original-exchange': exchange,
          'x-sluice-original-routing-key': routingKey,
        },
        persistent: settings.persistent,
        mandatory: true,
      },
    }
    this.deadLettered.inc()
    this.publish(letter)
  }

  /** The connection or channel of `session` is gone: close what is left of it, then the base reconnects. */
  private sessionLost(session: PublishSession, cause: Error | undefined): void {
    if (session.lost) return
    session.lost = true
    void closeQuietly(session.model)
    this.lost(session, cause ?? new Error('connection closed'))
  }

  protected override released(): void {
    this.drain()
    this.unblock()
  }

  private drain(): void {
    const draining = this.draining
    this.draining = undefined
    draining?.resolve()
  }

  private unblock(): void {
    const blocked = this.blocked
    this.blocked = undefined
    blocked?.resolve()
  }
}

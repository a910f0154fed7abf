import type { ChannelModel, ConfirmChannel, Message, Options } from 'amqplib'
import { ConnectorError } from '../../errors.js'
import type { SinkWriter } from '../../runtime/sink.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { ConfirmWindow } from '../base/confirm-window.js'
import type { RabbitMQPublish, SinkSettings } from './options.js'
import { ReconnectLoop } from '../base/reconnect-loop.js'
import { amqplib, closeQuietly, isNotFound } from './connection.js'

/** The header that carries why a returned message was dead-lettered. */
export const UNROUTABLE_HEADER = 'x-sluice-unroutable'

interface PublishSession {
  readonly model: ChannelModel
  channel: ConfirmChannel | undefined
  lost: boolean
}

interface Waiter {
  resolve(): void
  reject(error: Error): void
}

/**
 * The writer of {@link RabbitMQSink}: one connection and confirm channel, the unconfirmed messages in
 * a {@link ConfirmWindow}, and counters for tests.
 *
 * @example
 * const writer = new RabbitMQSink<string>({ exchange: '', routingKey: 'q' }).createWriter(context)
 * writer.write('hello', undefined)
 * await writer.flush()
 */
export class RabbitMQSinkWriter<T> implements SinkWriter<T> {
  private readonly window = new ConfirmWindow<RabbitMQPublish>()
  private readonly loop: ReconnectLoop<PublishSession>
  private readonly sharedOptions: Options.Publish
  private session: PublishSession | undefined
  private failure: Error | undefined
  private connectWaiters: Waiter[] = []
  private connecting: Promise<void> | undefined
  private draining: Promise<void> | undefined
  private drained: (() => void) | undefined
  private blocked: Promise<void> | undefined
  private unblocked: (() => void) | undefined
  private readonly roomAt: number
  /** Messages published (resends after a reconnection included). */
  published = 0
  /** Messages the broker returned as unroutable. */
  returned = 0
  /** Returned messages published to the dead-letter exchange. */
  deadLettered = 0

  constructor(
    private readonly settings: SinkSettings<T>,
    processingTime: ProcessingTimeService,
  ) {
    this.sharedOptions = { persistent: settings.persistent, mandatory: settings.mandatory }
    this.roomAt = Math.max(1, settings.maxInFlight >> 1)
    this.loop = new ReconnectLoop<PublishSession>(
      settings.retry,
      processingTime,
      settings.endpoint,
      () => this.open(),
      {
        connected: (session) => this.connected(session),
        failed: (error) => this.fail(error),
        discard: (session) => void closeQuietly(session.model),
      },
    )
    this.loop.start()
  }

  /** Connections made so far (reconnections included). */
  get connections(): number {
    return this.loop.connections
  }

  /** Messages written and not yet confirmed by the broker. */
  get unconfirmed(): number {
    return this.window.size
  }

  write(value: T, _timestamp?: number): void {
    if (this.failure !== undefined) throw this.failure
    const { settings } = this
    const options =
      settings.properties === undefined
        ? this.sharedOptions
        : { ...settings.properties(value), persistent: settings.persistent, mandatory: settings.mandatory }
    const message: RabbitMQPublish = {
      exchange: settings.exchange,
      routingKey: settings.routingKey(value),
      content: settings.serializer(value),
      options,
    }
    this.window.add(message)
    if (this.session !== undefined) this.send(this.session, message)
  }

  ready(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.session === undefined) {
      this.connecting ??= new Promise<void>((resolve, reject) => this.connectWaiters.push({ resolve, reject }))
      return this.connecting
    }
    if (this.window.size >= this.settings.maxInFlight) return this.window.whenBelow(this.roomAt)
    return this.draining ?? this.blocked
  }

  /** Resolves when the broker has confirmed every message written so far. */
  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    return this.window.whenEmpty()
  }

  /** On the barrier: every message before it is confirmed (at-least-once); nothing to keep in the checkpoint. */
  async snapshotState(): Promise<unknown[]> {
    await this.flush()
    return []
  }

  /** Closes the connection; a graceful end flushed before (the runtime calls `flush(true)` first). */
  async close(): Promise<void> {
    this.loop.close()
    const session = this.session
    this.session = undefined
    if (session !== undefined) {
      session.lost = true
      await closeQuietly(session.model, session.channel)
    }
  }

  private async open(): Promise<PublishSession> {
    const { settings } = this
    const model = await amqplib.get('rabbitmqSink').connect(settings.url, {
      timeout: settings.retry.connectTimeoutMs,
      noDelay: true,
      clientProperties: { connection_name: settings.connectionName },
    })
    const session: PublishSession = { model, channel: undefined, lost: false }
    model.on('error', () => {})
    model.on('close', (error?: Error) => this.lost(session, error))
    model.on('blocked', () => {
      this.blocked ??= new Promise<void>((resolve) => {
        this.unblocked = resolve
      })
    })
    model.on('unblocked', () => this.unblock())
    try {
      const channel = await model.createConfirmChannel()
      session.channel = channel
      channel.on('error', () => {})
      channel.on('close', () => this.lost(session, new Error('channel closed by the broker')))
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
        if (!session.lost) this.onReturn(session, message)
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

  private connected(session: PublishSession): void {
    if (session.lost) return this.loop.lost(new Error('connection closed while the channel was set up'))
    this.session = session
    // Everything unconfirmed goes out again, in order, before anything written from now on.
    for (const message of this.window.rewind()) this.send(session, message)
    this.connecting = undefined
    for (const w of this.connectWaiters.splice(0)) w.resolve()
  }

  private send(session: PublishSession, message: RabbitMQPublish): void {
    let accepted: boolean
    try {
      accepted = session.channel!.publish(message.exchange, message.routingKey, message.content, message.options)
    } catch {
      return // the channel is closing: the message is still unconfirmed and goes out on the next connection
    }
    this.published++
    if (!accepted && this.draining === undefined) {
      this.draining = new Promise<void>((resolve) => {
        this.drained = resolve
      })
    }
  }

  private onReturn(session: PublishSession, message: Message): void {
    this.returned++
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
    this.deadLettered++
    this.window.add(letter)
    this.send(session, letter)
  }

  private lost(session: PublishSession, cause: Error | undefined): void {
    if (session.lost) return
    session.lost = true
    void closeQuietly(session.model)
    if (this.session !== session) return
    this.session = undefined
    this.drain()
    this.unblock()
    this.loop.lost(cause ?? new Error('connection closed'))
  }

  private drain(): void {
    const drained = this.drained
    this.draining = undefined
    this.drained = undefined
    drained?.()
  }

  private unblock(): void {
    const unblocked = this.unblocked
    this.blocked = undefined
    this.unblocked = undefined
    unblocked?.()
  }

  private fail(error: Error): void {
    this.failure ??= error
    this.window.fail(this.failure)
    this.connecting = undefined
    for (const w of this.connectWaiters.splice(0)) w.reject(this.failure)
    this.drain()
    this.unblock()
  }
}

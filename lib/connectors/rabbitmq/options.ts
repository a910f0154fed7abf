import type { ConsumeMessage, Options } from 'amqplib'
import { ConfigError } from '../../errors.js'
import type { SourceGuarantee } from '../base/checkpoint-acks.js'
import {
  type ConnectionRetryOptions,
  CONNECTION_RETRY_OPTIONS,
  type RetrySettings,
  connectionRetry,
} from '../base/retry-options.js'
import { nonEmptyString, oneOf, optionsObject, wholeNumber } from '../../util/options.js'
import { DEFAULT_MAX_UNACKNOWLEDGED_BYTES } from '../base/ack-window.js'

export type { SourceGuarantee } from '../base/checkpoint-acks.js'

/** Where and how to connect; shared by the RabbitMQ source and sink. */
export interface RabbitMQConnectionOptions extends ConnectionRetryOptions {
  /**
   * `amqp://user:password@host:port/vhost` (with `?heartbeat=…` and the other amqplib URL
   * parameters), or amqplib's connect options object. Default `amqp://guest:guest@127.0.0.1:5672`.
   */
  url?: string | Options.Connect
  /** The connection's name in the broker's management tools (client property `connection_name`). */
  connectionName?: string
}

/** Options of {@link RabbitMQSource} (Flink's RMQSource). */
export interface RabbitMQSourceOptions extends RabbitMQConnectionOptions {
  /** The queue to consume. */
  queue: string
  /**
   * Declare the queue when it is missing: `true` declares it durable, an object gives amqplib's
   * assertQueue options. Default false: the queue must exist (ConnectorError 'ERR_NO_QUEUE' if not).
   */
  declareQueue?: boolean | Options.AssertQueue
  /**
   * The messages the broker hands this subtask without acknowledgement (basic.qos per consumer) at
   * first: acknowledgements wait for checkpoints, so the reader raises it as the rate shows (see
   * \`maxUnacknowledgedBytes\`; at most 65535). Default 2048 (the engine's default batch size × channel credits).
   */
  prefetch?: number
  /**
   * The most bytes (message bodies) that may wait for acknowledgement. The window starts at \`prefetch\`
   * and follows the observed rate × the checkpoint interval at every completed checkpoint, within half
   * of this budget at the average message size (old and new window may overlap while it changes).
   * Default 64 MiB.
   */
  maxUnacknowledgedBytes?: number
  /** The largest the window grows to, in messages; default 65535 (basic.qos prefetch-count is 16 bits). Set it to \`prefetch\` for a fixed window. */
  maxPrefetch?: number
  /**
   * - 'at-least-once' (default): acknowledge when the checkpoint that covers the message completes;
   *   needs checkpointing (without it, reading stops after `prefetch` messages).
   * - 'exactly-once': the same, and deduplicate redeliveries by `idProperty` across reconnections and
   *   restores (Flink's RMQSource with correlation ids); one subtask only.
   * - 'at-most-once': acknowledge when the message is emitted; for jobs without checkpoints.
   */
  guarantee?: SourceGuarantee
  /** Exactly-once: the property that identifies a message; default 'correlationId' (as Flink). */
  idProperty?: 'correlationId' | 'messageId'
  /**
   * Exactly-once: what to do with a message that lacks `idProperty`. 'fail' (default): the job fails
   * with ConnectorError 'ERR_MISSING_ID' (the message stays in the queue). 'reject': basic.reject
   * without requeue, so RabbitMQ dead-letters it to the queue's `x-dead-letter-exchange` (configure
   * one: without it RabbitMQ drops the message).
   */
  onMissingId?: 'fail' | 'reject'
  /**
   * Exactly-once: how long the id of a message whose acknowledgement was lost with its connection is
   * kept to recognise its redelivery; default 600,000 ms (10 minutes).
   */
  dedupRetentionMs?: number
}

/** A publish as the sink hands it to amqplib. */
export interface RabbitMQPublish {
  readonly exchange: string
  readonly routingKey: string
  readonly content: Buffer
  readonly options: Options.Publish
}

/** Options of {@link RabbitMQSink} (Flink's RMQSink with publisher confirms). */
export interface RabbitMQSinkOptions<T> extends RabbitMQConnectionOptions {
  /** The exchange to publish to; '' is the default exchange (the routing key names the queue). */
  exchange: string
  /** The routing key, fixed or per record. */
  routingKey: string | ((value: T) => string)
  /** The message body; default: a Buffer as is, a string as UTF-8, anything else as JSON. */
  serializer?: (value: T) => Buffer | string
  /** Message properties per record (correlationId, messageId, headers, contentType …). */
  properties?: (value: T) => Options.Publish
  /** Delivery mode 2 (the broker writes the message to disk in durable queues); default true. */
  persistent?: boolean
  /** Ask the broker to return a message no queue takes (basic.return); default true. */
  mandatory?: boolean
  /**
   * What happens to a returned (unroutable) message: 'fail' (default) fails the job with
   * ConnectorError 'ERR_UNROUTABLE'; 'dead-letter' publishes it to `deadLetterExchange` with the reason
   * in the `x-sluice-unroutable` header (confirmed like every other message).
   */
  onUnroutable?: 'fail' | 'dead-letter'
  /** The exchange of returned messages with `onUnroutable: 'dead-letter'`. */
  deadLetterExchange?: string
  /** Their routing key; default the original one. */
  deadLetterRoutingKey?: string
  /** Declare the exchange when missing (durable), with this type; default: it must exist. */
  declareExchange?: 'direct' | 'topic' | 'fanout' | 'headers'
  /** Unconfirmed messages before `ready()` makes the job wait; default 2048. */
  maxInFlight?: number
}

/** The source's options after validation, defaults applied. */
export interface SourceSettings {
  readonly url: string | Options.Connect
  readonly endpoint: string
  readonly connectionName: string
  readonly queue: string
  readonly declareQueue: Options.AssertQueue | undefined
  readonly prefetch: number
  readonly maxPrefetch: number
  readonly maxUnacknowledgedBytes: number
  readonly guarantee: SourceGuarantee
  readonly idProperty: 'correlationId' | 'messageId'
  readonly onMissingId: 'fail' | 'reject'
  readonly dedupRetentionMs: number
  readonly retry: RetrySettings
}

const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672'

/**
 * Validates the source options; the error names the option (`rabbitmqSource.prefetch`).
 *
 * @example
 * sourceSettings({ queue: 'orders', prefetch: 500 }).guarantee // 'at-least-once'
 */
export function sourceSettings(options: RabbitMQSourceOptions): SourceSettings {
  const o = optionsObject('rabbitmqSource', options, Object.keys(SOURCE_OPTIONS))
  const url = connectionUrl('rabbitmqSource.url', o.url)
  const queue = nonEmptyString('rabbitmqSource.queue', o.queue)
  const {
    prefetch = 2048,
    guarantee = 'at-least-once',
    idProperty = 'correlationId',
    onMissingId = 'fail',
    dedupRetentionMs = 600_000,
    declareQueue = false,
  } = o
  if (!Number.isSafeInteger(prefetch) || prefetch < 1 || prefetch > 65_535)
    throw new ConfigError('rabbitmqSource.prefetch', prefetch, 'a whole number from 1 to 65535')
  oneOf('rabbitmqSource.guarantee', guarantee, ['at-most-once', 'at-least-once', 'exactly-once'])
  oneOf('rabbitmqSource.idProperty', idProperty, ['correlationId', 'messageId'])
  oneOf('rabbitmqSource.onMissingId', onMissingId, ['fail', 'reject'])
  if (typeof dedupRetentionMs !== 'number' || !(dedupRetentionMs >= 0))
    throw new ConfigError('rabbitmqSource.dedupRetentionMs', dedupRetentionMs, 'a number ≥ 0')
  if (typeof declareQueue !== 'boolean' && (declareQueue === null || typeof declareQueue !== 'object'))
    throw new ConfigError('rabbitmqSource.declareQueue', declareQueue, 'true, false or amqplib assertQueue options')
  return {
    url,
    endpoint: `rabbitmqSource ${describeUrl(url)} queue "${queue}"`,
    queue,
    connectionName: connectionName('rabbitmqSource.connectionName', o.connectionName, `sluice rabbitmqSource ${queue}`),
    declareQueue: declareQueue === false ? undefined : declareQueue === true ? { durable: true } : declareQueue,
    prefetch,
    maxPrefetch: wholeNumber('rabbitmqSource.maxPrefetch', o.maxPrefetch, 65_535, prefetch, 65_535),
    maxUnacknowledgedBytes: wholeNumber(
      'rabbitmqSource.maxUnacknowledgedBytes',
      o.maxUnacknowledgedBytes,
      DEFAULT_MAX_UNACKNOWLEDGED_BYTES,
      1,
    ),
    guarantee,
    idProperty,
    onMissingId,
    dedupRetentionMs,
    retry: connectionRetry('rabbitmqSource', o),
  }
}

const CONNECTION_OPTIONS: Record<keyof RabbitMQConnectionOptions, true> = {
  ...CONNECTION_RETRY_OPTIONS,
  url: true,
  connectionName: true,
}

const SOURCE_OPTIONS: Record<keyof RabbitMQSourceOptions, true> = {
  ...CONNECTION_OPTIONS,
  queue: true,
  declareQueue: true,
  prefetch: true,
  maxUnacknowledgedBytes: true,
  maxPrefetch: true,
  guarantee: true,
  idProperty: true,
  onMissingId: true,
  dedupRetentionMs: true,
}

const SINK_OPTIONS: Record<keyof RabbitMQSinkOptions<unknown>, true> = {
  ...CONNECTION_OPTIONS,
  exchange: true,
  routingKey: true,
  serializer: true,
  properties: true,
  persistent: true,
  mandatory: true,
  onUnroutable: true,
  deadLetterExchange: true,
  deadLetterRoutingKey: true,
  declareExchange: true,
  maxInFlight: true,
}

/** The sink's options after validation, defaults applied. */
export interface SinkSettings<T> {
  readonly url: string | Options.Connect
  readonly endpoint: string
  readonly connectionName: string
  readonly exchange: string
  readonly routingKey: (value: T) => string
  readonly serializer: (value: T) => Buffer
  readonly properties: ((value: T) => Options.Publish) | undefined
  readonly persistent: boolean
  readonly mandatory: boolean
  readonly onUnroutable: 'fail' | 'dead-letter'
  readonly deadLetterExchange: string | undefined
  readonly deadLetterRoutingKey: string | undefined
  readonly declareExchange: string | undefined
  readonly maxInFlight: number
  readonly retry: RetrySettings
}

/**
 * Validates the sink options; the error names the option (`rabbitmqSink.exchange`).
 *
 * @example
 * sinkSettings({ exchange: 'events', routingKey: 'all' }).mandatory // true
 */
export function sinkSettings<T>(options: RabbitMQSinkOptions<T>): SinkSettings<T> {
  const o = optionsObject('rabbitmqSink', options, Object.keys(SINK_OPTIONS))
  const url = connectionUrl('rabbitmqSink.url', o.url)
  if (typeof o.exchange !== 'string')
    throw new ConfigError('rabbitmqSink.exchange', o.exchange, "an exchange name ('' for the default exchange)")
  const key = o.routingKey
  if (typeof key !== 'string' && typeof key !== 'function')
    throw new ConfigError('rabbitmqSink.routingKey', key, 'a string or a function (value) => string')
  const { persistent = true, mandatory = true, onUnroutable = 'fail', maxInFlight = 2048 } = o
  for (const [name, fn] of [
    ['serializer', o.serializer],
    ['properties', o.properties],
  ] as const) {
    if (fn !== undefined && typeof fn !== 'function')
      throw new ConfigError(`rabbitmqSink.${name}`, fn, 'a function of the record')
  }
  if (typeof persistent !== 'boolean') throw new ConfigError('rabbitmqSink.persistent', persistent, 'true or false')
  if (typeof mandatory !== 'boolean') throw new ConfigError('rabbitmqSink.mandatory', mandatory, 'true or false')
  oneOf('rabbitmqSink.onUnroutable', onUnroutable, ['fail', 'dead-letter'])
  if (onUnroutable === 'dead-letter' && typeof o.deadLetterExchange !== 'string') {
    throw new ConfigError(
      'rabbitmqSink.deadLetterExchange',
      o.deadLetterExchange,
      "an exchange name when onUnroutable is 'dead-letter'",
    )
  }
  if (o.deadLetterRoutingKey !== undefined && typeof o.deadLetterRoutingKey !== 'string')
    throw new ConfigError('rabbitmqSink.deadLetterRoutingKey', o.deadLetterRoutingKey, 'a string')
  if (o.declareExchange !== undefined)
    oneOf('rabbitmqSink.declareExchange', o.declareExchange, ['direct', 'topic', 'fanout', 'headers'])
  if (!Number.isSafeInteger(maxInFlight) || maxInFlight < 1)
    throw new ConfigError('rabbitmqSink.maxInFlight', maxInFlight, 'a whole number of at least 1')
  const serializer = o.serializer
  return {
    url,
    endpoint: `rabbitmqSink ${describeUrl(url)} exchange "${o.exchange}"`,
    exchange: o.exchange,
    connectionName: connectionName(
      'rabbitmqSink.connectionName',
      o.connectionName,
      `sluice rabbitmqSink ${o.exchange}`,
    ),
    routingKey: typeof key === 'string' ? () => key : key,
    serializer: serializer === undefined ? defaultSerializer : (v) => toBuffer(serializer(v)),
    properties: o.properties,
    persistent,
    mandatory,
    onUnroutable,
    deadLetterExchange: o.deadLetterExchange,
    deadLetterRoutingKey: o.deadLetterRoutingKey,
    declareExchange: o.declareExchange,
    maxInFlight,
    retry: connectionRetry('rabbitmqSink', o),
  }
}

/**
 * The broker address without credentials, for messages.
 *
 * @example
 * describeUrl('amqp://guest:secret@127.0.0.1:5672/') // 'amqp://127.0.0.1:5672/'
 */
export function describeUrl(url: string | Options.Connect): string {
  if (typeof url !== 'string')
    return `${url.protocol ?? 'amqp'}://${url.hostname ?? 'localhost'}:${url.port ?? 5672}${url.vhost === undefined ? '' : `/${url.vhost}`}`
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    u.search = ''
    return u.toString()
  } catch {
    return '(unparsable url)'
  }
}

function defaultSerializer(value: unknown): Buffer {
  return Buffer.isBuffer(value)
    ? value
    : typeof value === 'string'
      ? Buffer.from(value)
      : Buffer.from(JSON.stringify(value) ?? 'null')
}

function toBuffer(body: Buffer | string): Buffer {
  return typeof body === 'string' ? Buffer.from(body) : body
}

function connectionUrl(option: string, url: unknown): string | Options.Connect {
  if (url === undefined) return DEFAULT_URL
  if (typeof url === 'string') {
    if (!/^amqps?:\/\//.test(url))
      throw new ConfigError(option, '(a string not starting with amqp://)', 'an amqp:// or amqps:// URL')
    return url
  }
  if (url === null || typeof url !== 'object')
    throw new ConfigError(option, url, 'an amqp:// URL or amqplib connect options')
  return url as Options.Connect
}

function connectionName(option: string, name: unknown, fallback: string): string {
  if (name === undefined) return fallback
  if (typeof name !== 'string') throw new ConfigError(option, name, 'a string')
  return name
}

/** A message as amqplib delivers it: `content` (a Buffer), `fields` (deliveryTag, redelivered, routingKey …) and `properties`. */
export type RabbitMQMessage = ConsumeMessage

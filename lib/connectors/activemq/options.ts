import type { StompHeaders } from '@stomp/stompjs'
import { ConfigError } from '../../errors.js'
import type { SourceGuarantee } from '../base/checkpoint-acks.js'
import {
  type ConnectionRetryOptions,
  CONNECTION_RETRY_OPTIONS,
  type RetrySettings,
  connectionRetry,
} from '../base/retry-options.js'
import { optionsObject, wholeNumber } from '../../util/options.js'
import { type AckWindowGrowth, DEFAULT_MAX_UNACKNOWLEDGED_BYTES } from '../base/ack-window.js'

/** The largest \`activemq.prefetchSize\` (a Java int). */
const MAX_PREFETCH = 2_147_483_647

export type { SourceGuarantee } from '../base/checkpoint-acks.js'

/** Where and how to connect over STOMP; shared by the ActiveMQ source and sink. */
export interface ActiveMQConnectionOptions extends ConnectionRetryOptions {
  /** Default '127.0.0.1'. */
  host?: string
  /** ActiveMQ's STOMP transport; default 61613. */
  port?: number
  /** Credentials, sent as the CONNECT frame's `login` and `passcode`. */
  login?: string
  passcode?: string
  /** More CONNECT headers (`host` for a virtual host …). */
  connectHeaders?: StompHeaders
  /** STOMP heart-beats both ways, in ms; 0 turns them off. Default 10,000. */
  heartbeatMs?: number
}

/** Options of {@link ActiveMQSource} (Bahir's AMQSource, over STOMP). */
export interface ActiveMQSourceOptions extends ActiveMQConnectionOptions {
  /** A STOMP destination: `/queue/<name>` or `/topic/<name>`. */
  destination: string
  /**
   * A durable topic subscription's name (`activemq.subscriptionName`): the broker keeps the topic's
   * messages for it while the job is down. Needs `clientId`. Required for a topic unless at-most-once.
   */
  subscriptionName?: string
  /** The connection's client id (CONNECT `client-id`), which owns a durable subscription. */
  clientId?: string
  /**
   * The messages the broker dispatches to this subtask without acknowledgement
   * (\`activemq.prefetchSize\`) at first: acknowledgements wait for checkpoints, so the first time the
   * window is the limit the reader raises it once to what \`maxUnacknowledgedBytes\` allows, except on a
   * durable topic subscription, whose prefetch stays. Default 1000.
   */
  prefetch?: number
  /**
   * The most bytes (message bodies) that may wait for acknowledgement. The window starts at \`prefetch\`;
   * the first completed checkpoint after it was the limit sets it to half of this budget at the average
   * message size seen (up to \`maxPrefetch\`), once: each change is a re-subscription (old and new window
   * overlap while it changes). Default 64 MiB.
   */
  maxUnacknowledgedBytes?: number
  /**
   * The largest the window grows to, in messages; default 2,147,483,647 (the byte budget is then the
   * bound). A durable topic subscription keeps \`prefetch\`.
   */
  maxPrefetch?: number
  /**
   * - 'at-least-once' (default): cumulative (`ack: client`) acknowledgement of the messages a checkpoint
   *   covers when it completes; needs checkpointing.
   * - 'exactly-once': the same, and redeliveries are recognised by their `message-id` across
   *   reconnections and restores; one subtask only.
   * - 'at-most-once': acknowledged when emitted; for jobs without checkpoints.
   */
  guarantee?: SourceGuarantee
  /** Exactly-once: how long ids of messages whose acknowledgement was lost are kept; default 600,000 ms. */
  dedupRetentionMs?: number
}

/** Options of {@link ActiveMQSink} (Bahir's AMQSink, over STOMP). */
export interface ActiveMQSinkOptions<T> extends ActiveMQConnectionOptions {
  /** A STOMP destination: `/queue/<name>` or `/topic/<name>`. */
  destination: string
  /** The message body; default: a Buffer or Uint8Array as is, a string as UTF-8 text, anything else as JSON. */
  serializer?: (value: T) => string | Uint8Array
  /** SEND headers per record (`correlation-id`, `type`, custom properties …). */
  headers?: (value: T) => StompHeaders
  /** `persistent: true` on every SEND (the broker stores the message before its receipt); default true. */
  persistent?: boolean
  /** Messages sent and not yet receipted before `ready()` makes the job wait; default 1024. */
  maxInFlight?: number
}

/** Connection settings after validation. */
export interface StompSettings {
  readonly host: string
  readonly port: number
  readonly connectHeaders: StompHeaders
  readonly heartbeatMs: number
  readonly retry: RetrySettings
}

/** The source's options after validation, defaults applied. */
export interface ActiveMQSourceSettings extends StompSettings {
  readonly endpoint: string
  readonly destination: string
  readonly subscriptionName: string | undefined
  readonly prefetch: number
  readonly maxPrefetch: number
  readonly maxUnacknowledgedBytes: number
  readonly windowGrowth: AckWindowGrowth
  readonly guarantee: SourceGuarantee
  readonly dedupRetentionMs: number
}

/** The sink's options after validation, defaults applied. */
export interface ActiveMQSinkSettings<T> extends StompSettings {
  readonly endpoint: string
  readonly destination: string
  readonly serializer: (value: T) => string | Uint8Array
  readonly headers: ((value: T) => StompHeaders) | undefined
  readonly persistent: boolean
  readonly maxInFlight: number
}

/**
 * Validates the source options; the error names the option (`activemqSource.prefetch`).
 *
 * @example
 * activemqSourceSettings({ destination: '/queue/orders' }).prefetch // 1000
 */
export function activemqSourceSettings(options: ActiveMQSourceOptions): ActiveMQSourceSettings {
  const o = optionsObject('activemqSource', options, Object.keys(SOURCE_OPTIONS))
  const destination = validDestination('activemqSource.destination', o.destination)
  const { prefetch = 1000, guarantee = 'at-least-once', dedupRetentionMs = 600_000 } = o
  if (!Number.isSafeInteger(prefetch) || prefetch < 1)
    throw new ConfigError('activemqSource.prefetch', prefetch, 'a whole number of at least 1')
  if (guarantee !== 'at-most-once' && guarantee !== 'at-least-once' && guarantee !== 'exactly-once') {
    throw new ConfigError('activemqSource.guarantee', guarantee, "'at-most-once', 'at-least-once', 'exactly-once'")
  }
  if (typeof dedupRetentionMs !== 'number' || !(dedupRetentionMs >= 0))
    throw new ConfigError('activemqSource.dedupRetentionMs', dedupRetentionMs, 'a number ≥ 0')
  if (o.subscriptionName !== undefined && (typeof o.subscriptionName !== 'string' || o.subscriptionName === ''))
    throw new ConfigError('activemqSource.subscriptionName', o.subscriptionName, 'a non-empty string')
  if (o.clientId !== undefined && (typeof o.clientId !== 'string' || o.clientId === ''))
    throw new ConfigError('activemqSource.clientId', o.clientId, 'a non-empty string')
  const topic = destination.startsWith('/topic/')
  if (o.subscriptionName !== undefined && !topic)
    throw new ConfigError('activemqSource.subscriptionName', o.subscriptionName, 'only for a /topic/ destination')
  if (o.subscriptionName !== undefined && o.clientId === undefined)
    throw new ConfigError('activemqSource.clientId', o.clientId, 'a client id that owns the durable subscription')
  if (topic && o.subscriptionName === undefined && guarantee !== 'at-most-once') {
    throw new ConfigError(
      'activemqSource.subscriptionName',
      undefined,
      `a durable subscription name: a plain topic subscription loses what is published while the job is down (or guarantee 'at-most-once')`,
    )
  }
  const connection = stompSettings('activemqSource', o)
  return {
    ...connection,
    connectHeaders:
      o.clientId === undefined ? connection.connectHeaders : { ...connection.connectHeaders, 'client-id': o.clientId },
    endpoint: `activemqSource stomp://${connection.host}:${connection.port} ${destination}${o.subscriptionName === undefined ? '' : ` (durable subscription "${o.subscriptionName}")`}`,
    destination,
    subscriptionName: o.subscriptionName,
    prefetch,
    // a durable subscription's name allows one consumer: its window cannot change by subscribing again
    maxPrefetch:
      o.subscriptionName === undefined
        ? wholeNumber('activemqSource.maxPrefetch', o.maxPrefetch, MAX_PREFETCH, prefetch, MAX_PREFETCH)
        : prefetch,
    maxUnacknowledgedBytes: wholeNumber(
      'activemqSource.maxUnacknowledgedBytes',
      o.maxUnacknowledgedBytes,
      DEFAULT_MAX_UNACKNOWLEDGED_BYTES,
      1,
    ),
    // each change of the window is a re-subscription: grow once, to the byte budget
    windowGrowth: 'once-to-budget',
    guarantee,
    dedupRetentionMs,
  }
}

/**
 * Validates the sink options; the error names the option (`activemqSink.destination`).
 *
 * @example
 * activemqSinkSettings({ destination: '/queue/out' }).persistent // true
 */
export function activemqSinkSettings<T>(options: ActiveMQSinkOptions<T>): ActiveMQSinkSettings<T> {
  const o = optionsObject('activemqSink', options, Object.keys(SINK_OPTIONS))
  const destination = validDestination('activemqSink.destination', o.destination)
  const { persistent = true, maxInFlight = 1024 } = o
  for (const [name, fn] of [
    ['serializer', o.serializer],
    ['headers', o.headers],
  ] as const) {
    if (fn !== undefined && typeof fn !== 'function')
      throw new ConfigError(`activemqSink.${name}`, fn, 'a function of the record')
  }
  if (typeof persistent !== 'boolean') throw new ConfigError('activemqSink.persistent', persistent, 'true or false')
  if (!Number.isSafeInteger(maxInFlight) || maxInFlight < 1)
    throw new ConfigError('activemqSink.maxInFlight', maxInFlight, 'a whole number of at least 1')
  const connection = stompSettings('activemqSink', o)
  return {
    ...connection,
    endpoint: `activemqSink stomp://${connection.host}:${connection.port} ${destination}`,
    destination,
    serializer: o.serializer ?? defaultSerializer,
    headers: o.headers,
    persistent,
    maxInFlight,
  }
}

const CONNECTION_OPTIONS: Record<keyof ActiveMQConnectionOptions, true> = {
  ...CONNECTION_RETRY_OPTIONS,
  host: true,
  port: true,
  login: true,
  passcode: true,
  connectHeaders: true,
  heartbeatMs: true,
}

const SOURCE_OPTIONS: Record<keyof ActiveMQSourceOptions, true> = {
  ...CONNECTION_OPTIONS,
  destination: true,
  subscriptionName: true,
  clientId: true,
  prefetch: true,
  maxUnacknowledgedBytes: true,
  maxPrefetch: true,
  guarantee: true,
  dedupRetentionMs: true,
}

const SINK_OPTIONS: Record<keyof ActiveMQSinkOptions<unknown>, true> = {
  ...CONNECTION_OPTIONS,
  destination: true,
  serializer: true,
  headers: true,
  persistent: true,
  maxInFlight: true,
}

function stompSettings(owner: string, o: ActiveMQConnectionOptions): StompSettings {
  const { host = '127.0.0.1', port = 61613, heartbeatMs = 10_000 } = o
  if (typeof host !== 'string' || host === '')
    throw new ConfigError(`${owner}.host`, host, 'a non-empty host name or address')
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new ConfigError(`${owner}.port`, port, 'a whole number from 1 to 65535')
  if (!Number.isSafeInteger(heartbeatMs) || heartbeatMs < 0)
    throw new ConfigError(`${owner}.heartbeatMs`, heartbeatMs, 'a whole number ≥ 0')
  if (o.connectHeaders !== undefined && (o.connectHeaders === null || typeof o.connectHeaders !== 'object'))
    throw new ConfigError(`${owner}.connectHeaders`, o.connectHeaders, 'an object of header strings')
  const connectHeaders: StompHeaders = { ...o.connectHeaders }
  if (o.login !== undefined) connectHeaders.login = o.login
  if (o.passcode !== undefined) connectHeaders.passcode = o.passcode
  return { host, port, connectHeaders, heartbeatMs, retry: connectionRetry(owner, o) }
}

function defaultSerializer(value: unknown): string | Uint8Array {
  if (typeof value === 'string' || value instanceof Uint8Array) return value
  return JSON.stringify(value) ?? 'null'
}

function validDestination(option: string, destination: unknown): string {
  if (typeof destination !== 'string' || !/^\/(queue|topic)\/.+/.test(destination))
    throw new ConfigError(option, destination, 'a STOMP destination /queue/<name> or /topic/<name>')
  return destination
}

/** A message as the source emits it: plain data, with the body as a Buffer (`body.toString()` for text). */
export interface ActiveMQMessage {
  readonly messageId: string
  readonly destination: string
  /** The broker delivered it before (after a lost connection or a restart). */
  readonly redelivered: boolean
  /** Every STOMP header of the MESSAGE frame (JMS properties included). */
  readonly headers: StompHeaders
  readonly body: Buffer
}

import type { IClientOptions, IPublishPacket } from 'mqtt'
import { ConfigError } from '../../errors.js'
import {
  type ConnectionRetryOptions,
  CONNECTION_RETRY_OPTIONS,
  type RetrySettings,
  connectionRetry,
} from '../base/retry-options.js'
import { nonEmptyString, optionsObject, wholeNumber } from '../../util/options.js'
import { DEFAULT_MAX_UNACKNOWLEDGED_BYTES } from '../base/ack-window.js'

/** MQTT quality of service: at most once (0), at least once (1), exactly once (2) between client and broker. */
export type QoS = 0 | 1 | 2

/**
 * Connection settings shared by the source and the sink. Reconnection follows the socket connectors'
 * rule: `retry.maxRetries` (default 5) retries after a failed attempt or a dropped connection, counted
 * afresh after each successful connection, with delays from `retry.initialDelayMs` (default 500)
 * doubling up to `retry.maxDelayMs` (default 10,000); an attempt fails after `connectTimeoutMs`
 * (default 10,000).
 */
export interface MqttConnectionOptions extends ConnectionRetryOptions {
  /** `mqtt://host:port` (or mqtts://, ws://, wss://). */
  url: string
  /** 4 = MQTT 3.1.1 (default: every broker speaks it, ActiveMQ included), 5 = MQTT 5 (Mosquitto). */
  protocolVersion?: 4 | 5
  username?: string
  password?: string
  /** Seconds between keep-alive pings; default 60. */
  keepaliveSeconds?: number
  /** Further mqtt.js options, passed through (the connector's own settings win). */
  options?: IClientOptions
}

/** The largest `maxUnacknowledged`: one below MQTT 5's 65,535, which Mosquitto 2 does not keep to. */
const MAX_RECEIVE_MAXIMUM = 65_534

/** Options of {@link MqttSource}. */
export interface MqttSourceOptions extends MqttConnectionOptions {
  /** Topic filters to subscribe to (wildcards allowed). */
  topics: string | readonly string[]
  /** QoS of the subscriptions; default 1. */
  qos?: QoS
  /** The client id: the broker keeps the session (subscriptions, unacknowledged messages) under it. Required. */
  clientId: string
  /** Start a fresh session on every connection; default false (a persistent session, what checkpoint acknowledgement needs). */
  clean?: boolean
  /** MQTT 5: seconds the broker keeps the session after a disconnection; default 7 days. */
  sessionExpirySeconds?: number
  /** Messages received and not yet handed to the job; default 1024. */
  maxBuffered?: number
  /**
   * The most QoS 1/2 messages received and not yet acknowledged (buffered, or emitted and waiting for
   * their checkpoint to complete) the reader's window grows to. With MQTT 5 it is the Receive Maximum
   * the broker must respect (fixed per connection). Default and at most 65,534: Mosquitto 2 takes a
   * Receive Maximum of 65,535 (the value an absent one has) as none and sends past it, reusing packet ids
   * the reader still holds.
   */
  maxUnacknowledged?: number
  /**
   * The reader's window before it grew: it stops reading at this many unacknowledged QoS 1/2 messages.
   * The first completed checkpoint after the window was the limit (the reader ran dry with the whole
   * window waiting for acknowledgement) raises it once to half of `maxUnacknowledgedBytes` at the average
   * message size seen, up to `maxUnacknowledged`. Default 1000 (at most `maxUnacknowledged`).
   */
  initialUnacknowledged?: number
  /** The most bytes (payloads) the reader's window may hold unacknowledged, half of it when grown; default 64 MiB. */
  maxUnacknowledgedBytes?: number
}

/** Options of {@link MqttSink}. */
export interface MqttSinkOptions<T> extends MqttConnectionOptions {
  /** The topic of every message, or a function of the record. */
  topic: string | ((record: T) => string)
  /** Default 1. */
  qos?: QoS
  /** Publish with the retain flag; default false. */
  retain?: boolean | ((record: T) => boolean)
  /** The payload of a record; default: a Buffer or string as it is, anything else as JSON. */
  serializer?: (record: T) => Buffer | string
  /** Default `sluice-sink-<random>-<subtask>`. */
  clientId?: string
  /** Publishes sent and not yet acknowledged (QoS 1/2) or written (QoS 0) before `ready()` holds the job back; default 1000. */
  maxInFlight?: number
}

/** Connection settings after validation. */
export interface MqttConnectionSettings {
  readonly url: string
  readonly protocolVersion: 4 | 5
  readonly username: string | undefined
  readonly password: string | undefined
  readonly keepaliveSeconds: number
  readonly retry: RetrySettings
  readonly options: IClientOptions
}

/** Source settings after validation. */
export interface MqttSourceSettings extends MqttConnectionSettings {
  readonly topics: readonly string[]
  readonly qos: QoS
  readonly clientId: string
  readonly clean: boolean
  readonly sessionExpirySeconds: number
  readonly maxBuffered: number
  readonly maxUnacknowledged: number
  readonly initialUnacknowledged: number
  readonly maxUnacknowledgedBytes: number
}

/** Sink settings after validation. */
export interface MqttSinkSettings<T> extends MqttConnectionSettings {
  readonly topic: (record: T) => string
  readonly qos: QoS
  readonly retain: (record: T) => boolean
  readonly serializer: (record: T) => Buffer | string
  readonly clientId: string | undefined
  readonly maxInFlight: number
}

/**
 * Validates the source's options and applies the defaults.
 *
 * @example
 * validateSourceOptions({ url: 'mqtt://127.0.0.1:1883', topics: 'sensors/#', clientId: 'ingest' }).qos // 1
 */
export function validateSourceOptions(options: MqttSourceOptions): MqttSourceSettings {
  const o = 'mqttSource'
  if (options === undefined)
    throw new ConfigError(`${o} options`, options, 'an options object with url, topics and clientId')
  optionsObject(o, options, Object.keys(SOURCE_OPTIONS))
  const {
    qos = 1,
    clean = false,
    sessionExpirySeconds = 7 * 24 * 3600,
    maxBuffered = 1024,
    maxUnacknowledged = MAX_RECEIVE_MAXIMUM,
    initialUnacknowledged = Math.min(1000, maxUnacknowledged),
    maxUnacknowledgedBytes = DEFAULT_MAX_UNACKNOWLEDGED_BYTES,
  } = options
  const topics = typeof options.topics === 'string' ? [options.topics] : options.topics
  if (!Array.isArray(topics) || topics.length === 0 || topics.some((t) => typeof t !== 'string' || t === ''))
    throw new ConfigError(`${o}.topics`, options.topics, 'a topic filter or a non-empty list of them')
  if (typeof clean !== 'boolean') throw new ConfigError(`${o}.clean`, clean, 'true or false')
  return {
    ...validateConnection(o, options),
    topics,
    qos: validateQos(`${o}.qos`, qos),
    clientId: nonEmptyString(`${o}.clientId`, options.clientId),
    clean,
    sessionExpirySeconds: wholeNumber(`${o}.sessionExpirySeconds`, sessionExpirySeconds, undefined, 0, 0xffff_ffff),
    maxBuffered: wholeNumber(`${o}.maxBuffered`, maxBuffered, undefined, 1),
    maxUnacknowledged: wholeNumber(`${o}.maxUnacknowledged`, maxUnacknowledged, undefined, 1, MAX_RECEIVE_MAXIMUM),
    initialUnacknowledged: wholeNumber(
      `${o}.initialUnacknowledged`,
      initialUnacknowledged,
      undefined,
      1,
      typeof maxUnacknowledged === 'number' ? maxUnacknowledged : MAX_RECEIVE_MAXIMUM,
    ),
    maxUnacknowledgedBytes: wholeNumber(`${o}.maxUnacknowledgedBytes`, maxUnacknowledgedBytes, undefined, 1),
  }
}

/**
 * Validates the sink's options and applies the defaults.
 *
 * @example
 * validateSinkOptions({ url: 'mqtt://127.0.0.1:1883', topic: 'out' }).retain(record) // false
 */
export function validateSinkOptions<T>(options: MqttSinkOptions<T>): MqttSinkSettings<T> {
  const o = 'mqttSink'
  if (options === undefined) throw new ConfigError(`${o} options`, options, 'an options object with url and topic')
  optionsObject(o, options, Object.keys(SINK_OPTIONS))
  const { qos = 1, retain = false, serializer = defaultSerializer, maxInFlight = 1000 } = options
  const topic = options.topic
  if (typeof topic !== 'function' && (typeof topic !== 'string' || topic === '' || /[#+]/.test(topic)))
    throw new ConfigError(`${o}.topic`, topic, 'a topic name without wildcards, or a function of the record')
  if (typeof retain !== 'boolean' && typeof retain !== 'function')
    throw new ConfigError(`${o}.retain`, retain, 'true, false or a function of the record')
  if (typeof serializer !== 'function')
    throw new ConfigError(`${o}.serializer`, serializer, 'a function (record) => Buffer | string')
  if (options.clientId !== undefined) nonEmptyString(`${o}.clientId`, options.clientId)
  return {
    ...validateConnection(o, options),
    topic: typeof topic === 'function' ? topic : () => topic,
    qos: validateQos(`${o}.qos`, qos),
    retain: typeof retain === 'function' ? retain : () => retain,
    serializer,
    clientId: options.clientId,
    maxInFlight: wholeNumber(`${o}.maxInFlight`, maxInFlight, undefined, 1, 65_535),
  }
}

function validateConnection(owner: string, options: MqttConnectionOptions): MqttConnectionSettings {
  const { url, protocolVersion = 4, username, password, keepaliveSeconds = 60, options: extra = {} } = options
  if (typeof url !== 'string' || !/^(mqtts?|wss?|tcp|ssl):\/\/[^/]+/.test(url))
    throw new ConfigError(`${owner}.url`, url, 'a URL such as mqtt://127.0.0.1:1883')
  if (protocolVersion !== 4 && protocolVersion !== 5)
    throw new ConfigError(`${owner}.protocolVersion`, protocolVersion, '4 (MQTT 3.1.1) or 5 (MQTT 5)')
  if (username !== undefined && typeof username !== 'string')
    throw new ConfigError(`${owner}.username`, username, 'a string')
  if (password !== undefined && typeof password !== 'string')
    throw new ConfigError(`${owner}.password`, '(hidden)', 'a string')
  if (extra === null || typeof extra !== 'object')
    throw new ConfigError(`${owner}.options`, extra, 'an object of mqtt.js options')
  return {
    url,
    protocolVersion,
    username,
    password,
    keepaliveSeconds: wholeNumber(`${owner}.keepaliveSeconds`, keepaliveSeconds, undefined, 0, 65_535),
    retry: connectionRetry(owner, options, { initialDelayMs: 500 }),
    options: extra,
  }
}

/**
 * The default payload of a record: Buffers and strings as they are, anything else as JSON.
 *
 * @example
 * defaultSerializer({ a: 1 }) // '{"a":1}'
 */
export function defaultSerializer(record: unknown): Buffer | string {
  if (typeof record === 'string' || Buffer.isBuffer(record)) return record
  return JSON.stringify(record)
}

function validateQos(option: string, qos: unknown): QoS {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new ConfigError(option, qos, '0, 1 or 2')
  return qos
}

const CONNECTION_OPTIONS: Record<keyof MqttConnectionOptions, true> = {
  ...CONNECTION_RETRY_OPTIONS,
  url: true,
  protocolVersion: true,
  username: true,
  password: true,
  keepaliveSeconds: true,
  options: true,
}

const SOURCE_OPTIONS: Record<keyof MqttSourceOptions, true> = {
  ...CONNECTION_OPTIONS,
  topics: true,
  qos: true,
  clientId: true,
  clean: true,
  sessionExpirySeconds: true,
  maxBuffered: true,
  maxUnacknowledged: true,
  initialUnacknowledged: true,
  maxUnacknowledgedBytes: true,
}

const SINK_OPTIONS: Record<keyof MqttSinkOptions<unknown>, true> = {
  ...CONNECTION_OPTIONS,
  topic: true,
  qos: true,
  retain: true,
  serializer: true,
  clientId: true,
  maxInFlight: true,
}

/** One received message as the source emits it: decode `payload` downstream (`decode()`). */
export interface MqttMessage {
  readonly topic: string
  readonly payload: Buffer
  readonly qos: QoS
  readonly retain: boolean
  /** MQTT 5 properties (content type, user properties …), when the publisher set any. */
  readonly properties?: IPublishPacket['properties']
}

import type { ClusterOptions, RedisOptions } from 'ioredis'
import { ConfigError } from '../../errors.js'
import {
  type ConnectionRetryOptions,
  CONNECTION_RETRY_OPTIONS,
  type RetrySettings,
  connectionRetry,
} from '../base/retry-options.js'
import { nonEmptyString, optionsObject, wholeNumber } from '../../util/options.js'
import type { RedisMapper } from './mapper.js'

/** A Redis host and port. */
export interface RedisAddress {
  host: string
  port: number
}

/** Credentials and database shared by every configuration. */
interface RedisAuth {
  username?: string
  password?: string
  /** Database number (single node and sentinel only); default 0. */
  db?: number
}

/** One Redis server (Bahir's FlinkJedisPoolConfig). */
export interface RedisSingleConnection extends RedisAuth {
  mode?: 'single'
  /** Default '127.0.0.1'. */
  host?: string
  /** Default 6379. */
  port?: number
  /** Further ioredis options, passed through (retry and timeout settings are the connector's own). */
  options?: RedisOptions
}

/** A Redis Cluster, reached through any of its nodes (Bahir's FlinkJedisClusterConfig). */
export interface RedisClusterConnection extends Omit<RedisAuth, 'db'> {
  mode: 'cluster'
  nodes: RedisAddress[]
  /** Further ioredis Cluster options, passed through. */
  options?: ClusterOptions
}

/** A master found through Redis Sentinel (Bahir's FlinkJedisSentinelConfig). */
export interface RedisSentinelConnection extends RedisAuth {
  mode: 'sentinel'
  sentinels: RedisAddress[]
  /** The name the sentinels monitor the master under. */
  masterName: string
  sentinelUsername?: string
  sentinelPassword?: string
  options?: RedisOptions
}

/** Where Redis is: one server (or a `redis://` URL), a cluster, or a master behind sentinels. */
export type RedisConnection = RedisSingleConnection | RedisClusterConnection | RedisSentinelConnection | string

/**
 * Reconnection settings, as the socket connectors': `retry.maxRetries` (default 5) retries after a
 * failed attempt or a dropped connection, counted afresh after each successful connection, with delays
 * from `retry.initialDelayMs` (default 500) doubling up to `retry.maxDelayMs` (default 10,000); an
 * attempt fails after `connectTimeoutMs` (default 10,000). When the retries are used up, the connector fails with
 * ConnectorError 'ERR_CONNECT'. Commands issued while reconnecting wait and are sent on reconnection.
 */
export type RedisRetryOptions = ConnectionRetryOptions

/** Options of {@link RedisSink} (Bahir's RedisSink). */
export interface RedisSinkOptions<T> extends RedisRetryOptions {
  connection?: RedisConnection
  /** Turns a record into a command: which command, key, value, and the additional key or score. */
  mapper: RedisMapper<T>
  /** Commands sent in one pipeline once this many are buffered; default 1000. */
  maxPipelineCommands?: number
  /** Pipelines sent and not yet answered before `ready()` holds the job back; default 4. */
  maxPipelinesInFlight?: number
  /** A part-filled pipeline is sent this long after its first command (a trickle is not held until the barrier); default 5 ms. */
  lingerMs?: number
  /** XADD only: trim the stream to about this many entries (`MAXLEN ~ n`); default no trimming. */
  streamMaxLength?: number
}

/** Options of {@link RedisStreamSource}. */
export interface RedisStreamSourceOptions extends RedisRetryOptions {
  connection?: RedisConnection
  /** The stream's key. */
  stream: string
  /** The consumer group; created (with MKSTREAM) at `startId` when missing. */
  group: string
  /** Consumer name prefix: subtask i reads as `<consumer>-<i>`, the same name after a restart; default 'sluice'. */
  consumer?: string
  /** Where a group created by the source starts: '0' every entry (default), '$' only entries added from now on. */
  startId?: string
  /** COUNT of one XREADGROUP or XPENDING of idle entries; default 256. */
  batchSize?: number
  /** BLOCK of one XREADGROUP for new entries, in ms; default 1000. */
  blockMs?: number
  /** Entries read and not yet handed to the job; default 1024. */
  maxBuffered?: number
  /**
   * Entries read and not yet acknowledged (buffered, or emitted and waiting for a checkpoint to
   * complete): reading stops at this many (as AMQP's prefetch); default 10,000.
   */
  maxUnacknowledged?: number
  /**
   * Entries pending for longer than this in a consumer of the group that is not a subtask of this job
   * (a consumer that died, a subtask of a parallelism given up) are claimed with XCLAIM; 0 = never.
   * Entries of this job's own subtasks are never claimed. Default 60,000 ms.
   */
  claimIdleMs?: number
  /** How often to look for idle entries and for entries of this consumer that a lost reply left pending; default 5,000 ms. */
  checkIntervalMs?: number
  /**
   * 'at-least-once' (default): after a restore, entries emitted since the checkpoint are emitted again.
   * 'exactly-once': the ids of entries emitted and not yet acknowledged are part of the checkpoint,
   * and a restored reader acknowledges them before it reads, so none is emitted twice (see the docs for
   * the conditions).
   */
  guarantee?: 'at-least-once' | 'exactly-once'
  /** End the stream (bounded) once the group has no new entry for this consumer; default false. */
  bounded?: boolean
}

/** The settings of a sink after validation. */
export interface RedisSinkSettings {
  readonly connection: RedisConnection
  readonly retry: RetrySettings
  readonly maxPipelineCommands: number
  readonly maxPipelinesInFlight: number
  readonly lingerMs: number
  readonly streamMaxLength: number | undefined
}

/** The settings of a stream source after validation. */
export interface RedisStreamSettings {
  readonly connection: RedisConnection
  readonly retry: RetrySettings
  readonly stream: string
  readonly group: string
  readonly consumer: string
  readonly startId: string
  readonly batchSize: number
  readonly blockMs: number
  readonly maxBuffered: number
  readonly maxUnacknowledged: number
  readonly claimIdleMs: number
  readonly checkIntervalMs: number
  readonly exactlyOnce: boolean
  readonly bounded: boolean
}

/**
 * Validates a sink's options (the mapper excepted) and applies the defaults.
 *
 * @example
 * validateSinkOptions({ mapper, maxPipelineCommands: 500 }).lingerMs // 5
 */
export function validateSinkOptions(options: RedisSinkOptions<unknown>): RedisSinkSettings {
  optionsObject('redisSink', options, Object.keys(SINK_OPTIONS))
  const { maxPipelineCommands = 1000, maxPipelinesInFlight = 4, lingerMs = 5, streamMaxLength } = options
  return {
    connection: validateConnection('redisSink.connection', options.connection),
    retry: connectionRetry('redisSink', options, { initialDelayMs: 500 }),
    maxPipelineCommands: wholeNumber('redisSink.maxPipelineCommands', maxPipelineCommands, undefined, 1),
    maxPipelinesInFlight: wholeNumber('redisSink.maxPipelinesInFlight', maxPipelinesInFlight, undefined, 1),
    lingerMs: wholeNumber('redisSink.lingerMs', lingerMs, undefined, 0),
    streamMaxLength:
      streamMaxLength === undefined
        ? undefined
        : wholeNumber('redisSink.streamMaxLength', streamMaxLength, undefined, 1),
  }
}

/**
 * Validates a stream source's options and applies the defaults.
 *
 * @example
 * validateStreamOptions({ stream: 'orders', group: 'billing' }).consumer // 'sluice'
 */
export function validateStreamOptions(options: RedisStreamSourceOptions): RedisStreamSettings {
  if (options === undefined || options === null || typeof options !== 'object')
    throw new ConfigError('redisStreamSource options', options, 'an options object with stream and group')
  const o = 'redisStreamSource'
  optionsObject(o, options, Object.keys(STREAM_SOURCE_OPTIONS))
  const {
    consumer = 'sluice',
    startId = '0',
    batchSize = 256,
    blockMs = 1000,
    maxBuffered = 1024,
    maxUnacknowledged = 10_000,
    claimIdleMs = 60_000,
    checkIntervalMs = 5000,
    guarantee = 'at-least-once',
    bounded = false,
  } = options
  if (guarantee !== 'at-least-once' && guarantee !== 'exactly-once')
    throw new ConfigError(`${o}.guarantee`, guarantee, "'at-least-once' | 'exactly-once'")
  if (typeof bounded !== 'boolean') throw new ConfigError(`${o}.bounded`, bounded, 'true or false')
  if (typeof startId !== 'string' || !/^(\$|0|\d+(-\d+)?)$/.test(startId))
    throw new ConfigError(`${o}.startId`, startId, "'0', '$' or a stream id such as '1700000000000-0'")
  const settings: RedisStreamSettings = {
    connection: validateConnection(`${o}.connection`, options.connection),
    retry: connectionRetry(o, options, { initialDelayMs: 500 }),
    stream: nonEmptyString(`${o}.stream`, options.stream),
    group: nonEmptyString(`${o}.group`, options.group),
    consumer: nonEmptyString(`${o}.consumer`, consumer),
    startId,
    batchSize: wholeNumber(`${o}.batchSize`, batchSize, undefined, 1),
    blockMs: wholeNumber(`${o}.blockMs`, blockMs, undefined, 1),
    maxBuffered: wholeNumber(`${o}.maxBuffered`, maxBuffered, undefined, 1),
    maxUnacknowledged: wholeNumber(`${o}.maxUnacknowledged`, maxUnacknowledged, undefined, 1),
    claimIdleMs: wholeNumber(`${o}.claimIdleMs`, claimIdleMs, undefined, 0),
    checkIntervalMs: wholeNumber(`${o}.checkIntervalMs`, checkIntervalMs, undefined, 1),
    exactlyOnce: guarantee === 'exactly-once',
    bounded,
  }
  if (settings.maxUnacknowledged < settings.maxBuffered)
    throw new ConfigError(
      `${o}.maxUnacknowledged`,
      maxUnacknowledged,
      `a number ≥ maxBuffered (${settings.maxBuffered})`,
    )
  return settings
}

/**
 * Checks a connection description: the mode, addresses, and the credentials' types. Absent means
 * the single server at 127.0.0.1:6379.
 *
 * @example
 * validateConnection('redisSink.connection', { mode: 'cluster', nodes: [] }) // throws: … nodes: [] (expected a non-empty list of { host, port })
 */
export function validateConnection(option: string, connection: unknown): RedisConnection {
  if (connection === undefined) return { mode: 'single' }
  if (typeof connection === 'string') {
    if (!/^rediss?:\/\//.test(connection))
      throw new ConfigError(option, connection, 'a redis:// or rediss:// URL, or a connection object')
    return connection
  }
  if (connection === null || typeof connection !== 'object')
    throw new ConfigError(
      option,
      connection,
      "a redis:// URL or an object { mode: 'single' | 'cluster' | 'sentinel', … }",
    )
  const c = connection as Record<string, unknown>
  for (const field of ['username', 'password', 'sentinelUsername', 'sentinelPassword']) {
    if (c[field] !== undefined && typeof c[field] !== 'string')
      throw new ConfigError(`${option}.${field}`, c[field], 'a string')
  }
  if (c.options !== undefined && (c.options === null || typeof c.options !== 'object'))
    throw new ConfigError(`${option}.options`, c.options, 'an object of ioredis options')
  const mode = c.mode ?? 'single'
  switch (mode) {
    case 'single':
      if (c.host !== undefined) nonEmptyString(`${option}.host`, c.host)
      if (c.port !== undefined) port(`${option}.port`, c.port)
      if (c.db !== undefined) wholeNumber(`${option}.db`, c.db, undefined, 0)
      return connection as RedisSingleConnection
    case 'cluster':
      addresses(`${option}.nodes`, c.nodes)
      if (c.db !== undefined) throw new ConfigError(`${option}.db`, c.db, 'nothing: a cluster has database 0 only')
      return connection as RedisClusterConnection
    case 'sentinel':
      addresses(`${option}.sentinels`, c.sentinels)
      nonEmptyString(`${option}.masterName`, c.masterName)
      if (c.db !== undefined) wholeNumber(`${option}.db`, c.db, undefined, 0)
      return connection as RedisSentinelConnection
    default:
      throw new ConfigError(`${option}.mode`, mode, "'single' | 'cluster' | 'sentinel'")
  }
}

function addresses(option: string, list: unknown): void {
  if (!Array.isArray(list) || list.length === 0)
    throw new ConfigError(option, list, 'a non-empty list of { host, port }')
  list.forEach((a: unknown, i) => {
    if (a === null || typeof a !== 'object') throw new ConfigError(`${option}[${i}]`, a, '{ host, port }')
    nonEmptyString(`${option}[${i}].host`, (a as RedisAddress).host)
    port(`${option}[${i}].port`, (a as RedisAddress).port)
  })
}

function port(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65_535)
    throw new ConfigError(option, value, 'a whole number from 1 to 65535')
  return value
}

const SINK_OPTIONS: Record<keyof RedisSinkOptions<unknown>, true> = {
  ...CONNECTION_RETRY_OPTIONS,
  connection: true,
  mapper: true,
  maxPipelineCommands: true,
  maxPipelinesInFlight: true,
  lingerMs: true,
  streamMaxLength: true,
}

const STREAM_SOURCE_OPTIONS: Record<keyof RedisStreamSourceOptions, true> = {
  ...CONNECTION_RETRY_OPTIONS,
  connection: true,
  stream: true,
  group: true,
  consumer: true,
  startId: true,
  batchSize: true,
  blockMs: true,
  maxBuffered: true,
  maxUnacknowledged: true,
  claimIdleMs: true,
  checkIntervalMs: true,
  guarantee: true,
  bounded: true,
}

/** One entry of a Redis stream as the source emits it: decode `fields` downstream (`decode()`). */
export interface RedisStreamEntry {
  readonly stream: string
  /** The entry id, `<ms>-<seq>`, unique in its stream. */
  readonly id: string
  readonly fields: Readonly<Record<string, string>>
}

/**
 * What an exactly-once reader keeps in a checkpoint: the ids of entries it emitted before the barrier
 * and had not acknowledged yet. A restored reader acknowledges them (XACK) before it reads anything,
 * so Redis does not hand them out again.
 */
export interface RedisStreamSplit {
  readonly v: 1
  readonly stream: string
  readonly group: string
  readonly ids: readonly string[]
}

/** What the Redis writer needs of its sink, validated: the sink itself satisfies it. */
export interface RedisSinkParts<T> {
  readonly mapper: RedisMapper<T>
  readonly settings: RedisSinkSettings
}

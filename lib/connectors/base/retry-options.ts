import { ConfigError } from '../../errors.js'
import { createLogger, type Logger } from '../../logging.js'
import { type BackoffOptions, validateBackoff } from '../../util/backoff.js'
import { asWritten } from '../../util/deprecated-options.js'
import { optionKeys, optionsObject } from '../../util/options.js'

/**
 * The `retry` option, one shape for every connector and every retried call (a connection, a bulk
 * request, a callback): how many retries, and how the delay between them grows, in the engine's one
 * backoff vocabulary ({@link BackoffOptions}).
 */
export interface RetryOptions extends Partial<BackoffOptions> {
  /** Retries after the first failed attempt; 0 = none, Infinity = forever. Default 5 unless the connector says otherwise. */
  maxRetries?: number
  /** Delay before the first retry; default 200 ms unless the connector says otherwise. */
  initialDelayMs?: number
  /** Ceiling of the delay; default 10,000 ms (or `initialDelayMs` if that is larger). */
  maxDelayMs?: number
  /** Growth of the delay per retry, at least 1 (1: a constant delay); default 2. */
  multiplier?: number
  /** Random spread of each delay, ± this fraction (0..1); default 0. */
  jitter?: number
}

/** {@link RetryOptions} after validation, defaults applied. */
export interface RetrySchedule extends Required<BackoffOptions> {
  readonly maxRetries: number
}

/** A connector's own defaults for {@link RetryOptions}, where they differ from 5 retries from 200 ms to 10 s. */
export type RetryDefaults = Partial<RetrySchedule>

const RETRY_KEYS = optionKeys<RetryOptions>({
  maxRetries: true,
  initialDelayMs: true,
  maxDelayMs: true,
  multiplier: true,
  jitter: true,
})

/**
 * Validates a `retry` option and applies the defaults: an unknown key fails naming its full path and
 * suggesting the closest known one, every bad value fails naming its path.
 *
 * @example
 * retrySchedule('kafkaSource.retry', { maxRetries: 2 }) // { maxRetries: 2, initialDelayMs: 200, maxDelayMs: 10000, multiplier: 2, jitter: 0 }
 * retrySchedule('rabbitmqSource.retry', { maxDelay: 5 }) // ConfigError: rabbitmqSource.retry.maxDelay … did you mean maxDelayMs?
 */
export function retrySchedule(
  path: string,
  options: RetryOptions | undefined,
  defaults: RetryDefaults = {},
): RetrySchedule {
  const o = optionsObject(path, options, RETRY_KEYS)
  const maxRetries = o.maxRetries ?? defaults.maxRetries ?? 5
  if (
    typeof maxRetries !== 'number' ||
    !(maxRetries === Infinity || (Number.isSafeInteger(maxRetries) && maxRetries >= 0))
  )
    throw new ConfigError(`${path}.maxRetries`, maxRetries, 'a whole number of at least 0, or Infinity')
  const initialDelayMs = o.initialDelayMs ?? defaults.initialDelayMs ?? 200
  const backoff = validateBackoff(path, {
    initialDelayMs,
    maxDelayMs:
      o.maxDelayMs ??
      (typeof initialDelayMs === 'number' ? Math.max(defaults.maxDelayMs ?? 10_000, initialDelayMs) : 10_000),
    multiplier: o.multiplier ?? defaults.multiplier,
    jitter: o.jitter ?? defaults.jitter,
  })
  return { maxRetries, ...backoff }
}

/**
 * The options of a connector that connects, and connects again after a failure or a loss (RabbitMQ,
 * ActiveMQ, MQTT, Redis, socket, WebHDFS, NiFi, Twitter, Elasticsearch, Cassandra). The flat retry
 * names of the release before are still read, with a deprecation warning naming the new path.
 */
export interface ConnectionRetryOptions {
  /**
   * Retries after a failed connection attempt or a lost connection before ConnectorError
   * 'ERR_CONNECT', counted afresh after each successful connection, and their delays.
   */
  retry?: RetryOptions
  /** A connection attempt that has not succeeded after this long fails; default 10,000 ms. */
  connectTimeoutMs?: number
  /** @deprecated use `retry.maxRetries` (read as it, with a warning, for this release) */
  maxRetries?: number
  /** @deprecated use `retry.initialDelayMs` (read as it, with a warning, for this release) */
  initialDelayMs?: number
  /** @deprecated use `retry.maxDelayMs` (read as it, with a warning, for this release) */
  maxDelayMs?: number
  /** @deprecated use `retry.multiplier` (read as it, with a warning, for this release) */
  multiplier?: number
  /** @deprecated use `retry.jitter` (read as it, with a warning, for this release) */
  jitter?: number
  /** @deprecated use `retry.initialDelayMs` (read as it, with a warning, for this release) */
  retryDelayMs?: number
  /** @deprecated use `retry.maxDelayMs` (read as it, with a warning, for this release) */
  maxRetryDelayMs?: number
}

/** Each flat name of the releases before, with its key inside `retry`. */
const FLAT_RETRY_NAMES: Readonly<Record<string, keyof RetryOptions>> = {
  maxRetries: 'maxRetries',
  initialDelayMs: 'initialDelayMs',
  maxDelayMs: 'maxDelayMs',
  multiplier: 'multiplier',
  jitter: 'jitter',
  retryDelayMs: 'initialDelayMs',
  maxRetryDelayMs: 'maxDelayMs',
}

/**
 * Every key of {@link ConnectionRetryOptions} (the deprecated flat ones included): a connector's table
 * of known keys spreads it, so `optionsObject` accepts them.
 */
export const CONNECTION_RETRY_OPTIONS: Readonly<Record<keyof ConnectionRetryOptions, true>> = {
  retry: true,
  connectTimeoutMs: true,
  maxRetries: true,
  initialDelayMs: true,
  maxDelayMs: true,
  multiplier: true,
  jitter: true,
  retryDelayMs: true,
  maxRetryDelayMs: true,
}

/** Connection retry settings after validation, defaults applied. */
export interface RetrySettings extends RetrySchedule {
  readonly connectTimeoutMs: number
}

/**
 * Reads the connection retry options of `owner` ('rabbitmqSource', 'socketSink', …): `retry` validated
 * by {@link retrySchedule} under `owner.retry`, and `connectTimeoutMs`; the flat names of the releases
 * before are read as {@link nestedOrFlatRetry} says.
 *
 * @example
 * connectionRetry('rabbitmqSink', { retry: { maxRetries: 2 } }) // { maxRetries: 2, initialDelayMs: 200, …, connectTimeoutMs: 10000 }
 * connectionRetry('rabbitmqSink', { maxRetries: 2 })            // the same, and a warning: use rabbitmqSink.retry.maxRetries
 */
export function connectionRetry(
  owner: string,
  options: ConnectionRetryOptions,
  defaults: RetryDefaults = {},
  log: Logger = createLogger(),
): RetrySettings {
  const { connectTimeoutMs = 10_000 } = options
  if (typeof connectTimeoutMs !== 'number' || !Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0)
    throw new ConfigError(`${owner}.connectTimeoutMs`, connectTimeoutMs, 'a number of milliseconds > 0')
  return { ...nestedOrFlatRetry(owner, options, FLAT_RETRY_NAMES, defaults, log), connectTimeoutMs }
}

/**
 * Reads `owner.retry`, or, when it is absent, the flat names of the release before (`flatNames`: old
 * name beside the other options → key in `retry`), with one warning per call naming each old path and
 * its new one. Flat and nested together fail, as do two flat names of one key; a bad flat value fails
 * naming the path as written.
 *
 * @example
 * nestedOrFlatRetry('kinesisSink', { retryBackoffMs: 5 }, { retryBackoffMs: 'initialDelayMs' })
 * // { maxRetries: 5, initialDelayMs: 5, … }, and a warning: use kinesisSink.retry.initialDelayMs
 */
export function nestedOrFlatRetry(
  owner: string,
  options: { readonly retry?: RetryOptions },
  flatNames: Readonly<Record<string, keyof RetryOptions>>,
  defaults: RetryDefaults = {},
  log: Logger = createLogger(),
): RetrySchedule {
  const given = options as Record<string, unknown>
  const flat = Object.keys(flatNames).filter((name) => given[name] !== undefined)
  if (flat.length === 0) return retrySchedule(`${owner}.retry`, options.retry, defaults)
  if (options.retry !== undefined)
    throw new ConfigError(
      `${owner}.${flat[0]}`,
      given[flat[0]!],
      `not given together with ${owner}.retry (its new place)`,
    )
  const nested: Record<string, unknown> = {}
  const writtenAs = new Map<string, string>()
  for (const name of flat) {
    const key = flatNames[name]!
    const newPath = `${owner}.retry.${key}`
    if (writtenAs.has(newPath))
      throw new ConfigError(`${owner}.${name}`, given[name], `not given together with ${writtenAs.get(newPath)}`)
    nested[key] = given[name]
    writtenAs.set(newPath, `${owner}.${name}`)
  }
  log.warn(`deprecated options ${[...writtenAs.values()].join(', ')}; use ${[...writtenAs.keys()].join(', ')}`, {
    options: [...writtenAs.values()],
    replacements: [...writtenAs.keys()],
  })
  try {
    return retrySchedule(`${owner}.retry`, nested, defaults)
  } catch (error) {
    throw asWritten(error, writtenAs)
  }
}

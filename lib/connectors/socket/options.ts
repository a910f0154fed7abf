import { ConfigError } from '../../errors.js'

/** Reconnection settings shared by the socket source and sink. */
export interface SocketRetryOptions {
  /**
   * How many times to try again after a failed connection attempt or a dropped connection before
   * giving up with ConnectorError 'ERR_CONNECT'; 0 = never, Infinity = forever. Default 5.
   */
  maxRetries?: number
  /** Delay before the first retry, doubled for each further one; default 500 ms. */
  retryDelayMs?: number
  /** Ceiling of the retry delay; default 10,000 ms. */
  maxRetryDelayMs?: number
  /** A connection attempt that has not succeeded after this long fails; default 10,000 ms. */
  connectTimeoutMs?: number
}

/** Options of {@link SocketTextSource} (Flink's socketTextStream). */
export interface SocketTextSourceOptions extends SocketRetryOptions {
  /** What separates records; any non-empty string, several characters allowed. Default '\n'. */
  delimiter?: string
  /** Default 'utf8'; characters split across TCP chunks are decoded whole. */
  encoding?: BufferEncoding
  /** Lines held for downstream before the socket is paused; resumed below half. Default 1024. */
  maxBufferedLines?: number
  /** A line longer than this many characters fails the source ('ERR_LINE_TOO_LONG'); default 1 MiB. */
  maxLineLength?: number
}

/** Options of {@link SocketSink} (Flink's writeToSocket). */
export interface SocketSinkOptions<T> extends SocketRetryOptions {
  /** The bytes of a record; default `String(value) + '\n'`. */
  serializer?: (value: T) => string | Buffer
}

/** Reconnection settings after validation, defaults applied. */
export interface RetrySettings {
  readonly maxRetries: number
  readonly retryDelayMs: number
  readonly maxRetryDelayMs: number
  readonly connectTimeoutMs: number
}

/**
 * Throws a ConfigError unless `host` is a non-empty string.
 *
 * @example
 * validateHost('socketTextStream.host', 'localhost')
 */
export function validateHost(option: string, host: unknown): string {
  if (typeof host !== 'string' || host === '') throw new ConfigError(option, host, 'a non-empty host name or address')
  return host
}

/**
 * Throws a ConfigError unless `port` is a TCP port one can connect to (1..65535).
 *
 * @example
 * validatePort('socketTextStream.port', 0) // throws: invalid option socketTextStream.port: 0 …
 */
export function validatePort(option: string, port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) throw new ConfigError(option, port, 'a whole number from 1 to 65535')
  return port
}

/**
 * Validates the retry options of `owner` ('socketTextStream', 'socketSink') and applies the defaults.
 *
 * @example
 * validateRetry('socketSink', { maxRetries: Infinity }) // { maxRetries: Infinity, retryDelayMs: 500, … }
 */
export function validateRetry(owner: string, options: SocketRetryOptions): RetrySettings {
  const { maxRetries = 5, retryDelayMs = 500, maxRetryDelayMs = 10_000, connectTimeoutMs = 10_000 } = options
  if (typeof maxRetries !== 'number' || !(maxRetries === Infinity || (Number.isSafeInteger(maxRetries) && maxRetries >= 0))) {
    throw new ConfigError(`${owner}.maxRetries`, maxRetries, 'a whole number ≥ 0, or Infinity')
  }
  if (typeof retryDelayMs !== 'number' || !Number.isFinite(retryDelayMs) || retryDelayMs < 0) throw new ConfigError(`${owner}.retryDelayMs`, retryDelayMs, 'a finite number ≥ 0')
  if (typeof maxRetryDelayMs !== 'number' || !Number.isFinite(maxRetryDelayMs) || maxRetryDelayMs < retryDelayMs) {
    throw new ConfigError(`${owner}.maxRetryDelayMs`, maxRetryDelayMs, `a finite number ≥ retryDelayMs (${retryDelayMs})`)
  }
  if (typeof connectTimeoutMs !== 'number' || !Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0) {
    throw new ConfigError(`${owner}.connectTimeoutMs`, connectTimeoutMs, 'a finite number > 0')
  }
  return { maxRetries, retryDelayMs, maxRetryDelayMs, connectTimeoutMs }
}

/**
 * Throws a ConfigError unless `options` is an object (or absent).
 *
 * @example
 * validateOptionsObject('socketSink options', undefined) // {}
 */
export function validateOptionsObject<O extends object>(option: string, options: O | undefined): O {
  if (options === undefined) return {} as O
  if (options === null || typeof options !== 'object') throw new ConfigError(option, options, 'an options object')
  return options
}

import { ConfigError } from '../../errors.js'
import {
  type ConnectionRetryOptions,
  CONNECTION_RETRY_OPTIONS,
  type RetrySettings,
  connectionRetry,
} from '../base/retry-options.js'

export type { RetrySettings } from '../base/retry-options.js'

/** Reconnection settings shared by the socket source and sink (initialDelayMs defaults to 500 ms here). */
export type SocketRetryOptions = ConnectionRetryOptions

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
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535)
    throw new ConfigError(option, port, 'a whole number from 1 to 65535')
  return port
}

/**
 * Validates the retry options of `owner` ('socketTextStream', 'socketSink') and applies the defaults.
 *
 * @example
 * validateRetry("socketSink", { retry: { maxRetries: Infinity } }) // { maxRetries: Infinity, initialDelayMs: 500, … }
 */
export function validateRetry(owner: string, options: SocketRetryOptions): RetrySettings {
  return connectionRetry(owner, options, { initialDelayMs: 500 })
}

/** Every key of {@link SocketTextSourceOptions}, for `optionsObject`. */
export const SOURCE_OPTIONS: Readonly<Record<keyof SocketTextSourceOptions, true>> = {
  ...CONNECTION_RETRY_OPTIONS,
  delimiter: true,
  encoding: true,
  maxBufferedLines: true,
  maxLineLength: true,
}

/** Every key of {@link SocketSinkOptions}, for `optionsObject`. */
export const SINK_OPTIONS: Readonly<Record<keyof SocketSinkOptions<unknown>, true>> = {
  ...CONNECTION_RETRY_OPTIONS,
  serializer: true,
}

/** What the socket reader needs of its source, validated: the source itself satisfies it. */
export interface SocketTextSourceSettings {
  readonly host: string
  readonly port: number
  readonly delimiter: string
  readonly encoding: BufferEncoding
  readonly maxBufferedLines: number
  readonly maxLineLength: number
  readonly retry: RetrySettings
}

/** What the socket writer needs of its sink, validated: the sink itself satisfies it. */
export interface SocketSinkSettings<T> {
  readonly host: string
  readonly port: number
  readonly serializer: (value: T) => string | Buffer
  readonly retry: RetrySettings
}

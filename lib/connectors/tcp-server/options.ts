import type { TlsOptions } from 'node:tls'
import { ConfigError } from '../../errors.js'
import { functionOption, nonEmptyString, optionsObject, wholeNumber } from '../../util/options.js'
import { type RetryOptions, retrySchedule } from '../base/retry-options.js'
import type { AddressCallback } from '../base/register-address.js'
import { type ServerPort, serverPort, tlsOption } from '../base/server-source.js'
import type { FrameDecoder, TcpFrame } from './frames.js'

/** How bytes become frames: lines, 4-byte length prefixes, or a decoder of one's own per connection. */
export type TcpFraming = 'lines' | 'length-prefixed' | (() => FrameDecoder)

/** Options of {@link TcpServerSource} (Bahir's TcpReceiverSource, with backpressure and bounds). */
export interface TcpServerSourceOptions<T> {
  /** Interface to listen on. Default '127.0.0.1'. */
  host?: string
  /**
   * Port; 0 (default) lets the system pick one, read it from `source.address`. A range `{ from, to }`
   * allows parallelism up to its size: subtask `i` listens on `from + i` (`source.addresses`).
   */
  port?: number | { from: number; to: number }
  /**
   * Told each subtask's bound address once it listens, as Bahir's source registers itself: a POST of
   * JSON `{ host, port, subtask }`; user info in the URL is sent as Basic auth. Retried on `callbackRetry`;
   * failing for good fails the reader with ConnectorError 'ERR_CALLBACK' naming the URL (no credentials).
   */
  callbackUrl?: string
  /** Retries of the callback (the shared retry vocabulary); default 5 retries from 200 ms, doubling, at most 10 s. */
  callbackRetry?: RetryOptions
  /** Time limit of each callback request. Default 5 000 ms. */
  callbackTimeoutMs?: number
  /** Default 'lines' (`\n`, a `\r` before it dropped). */
  framing?: TcpFraming
  /** Maps a frame (a string with 'lines', a Buffer otherwise) to a record; default: the frame as text. Throwing makes the frame a dead letter. */
  decoder?: (frame: TcpFrame) => T
  /** A frame over this (characters for 'lines', bytes otherwise) closes its connection, with a dead letter and a log line. Default 64 Ki. */
  maxFrameBytes?: number
  /** Connections beyond this are refused. Default 1024. */
  maxConnections?: number
  /** A connection that sends nothing for this long is closed (not while paused by backpressure). Default 60 000 ms. */
  idleTimeoutMs?: number
  /** Records buffered for the job before every connection is paused; reading resumes below half. Default 1024. */
  maxBufferedRecords?: number
  /** When set, the server speaks TLS with these options (key, cert, ca, requestCert …). */
  tls?: TlsOptions
}

/** The validated options, defaults applied. */
export interface TcpServerSettings<T> {
  readonly host: string
  readonly port: ServerPort
  readonly callback: AddressCallback | undefined
  readonly framing: () => FrameDecoder
  readonly framingName: string
  readonly decoder: (frame: TcpFrame) => T
  readonly maxFrameBytes: number
  readonly maxConnections: number
  readonly idleTimeoutMs: number
  readonly maxBufferedRecords: number
  readonly tls: TlsOptions | undefined
}

/** What the source counted since it was built (across restarts). */
export interface TcpSourceStats {
  connections: number
  records: number
  /** Frames the decoder refused (each a dead letter). */
  badFrames: number
  /** Connections closed for an oversized frame (each a dead letter). */
  oversized: number
  /** Connections closed by idleTimeoutMs. */
  idleClosed: number
  /** Times every connection was paused because the buffer was full. */
  pauses: number
}

const KNOWN = [
  'host',
  'port',
  'framing',
  'decoder',
  'maxFrameBytes',
  'maxConnections',
  'idleTimeoutMs',
  'maxBufferedRecords',
  'tls',
  'callbackUrl',
  'callbackRetry',
  'callbackTimeoutMs',
] as const

/**
 * Validates {@link TcpServerSourceOptions} (errors name `tcpServerSource.<option>`); `createDecoder`
 * builds the built-in framings.
 *
 * @example
 * tcpServerSettings({ framing: 'length-prefixed' }, (name, max) => new LengthPrefixedFrames(max)).maxFrameBytes // 65536
 */
export function tcpServerSettings<T>(
  options: TcpServerSourceOptions<T> | undefined,
  createDecoder: (framing: 'lines' | 'length-prefixed', maxFrameBytes: number) => FrameDecoder,
): TcpServerSettings<T> {
  const o = optionsObject('tcpServerSource', options, KNOWN)
  const p = (name: string): string => `tcpServerSource.${name}`
  const maxFrameBytes = wholeNumber(p('maxFrameBytes'), o.maxFrameBytes, 64 * 1024, 1)
  const framing = o.framing ?? 'lines'
  let factory: () => FrameDecoder
  if (framing === 'lines' || framing === 'length-prefixed') factory = () => createDecoder(framing, maxFrameBytes)
  else if (typeof framing === 'function') factory = framing
  else throw new ConfigError(p('framing'), framing, "'lines', 'length-prefixed' or a function creating a FrameDecoder")
  return {
    host: nonEmptyString(p('host'), o.host, '127.0.0.1'),
    port: serverPort(p('port'), o.port),
    callback: addressCallback(o, p),
    framing: factory,
    framingName: typeof framing === 'string' ? framing : 'custom',
    decoder: functionOption<(frame: TcpFrame) => T>(
      p('decoder'),
      o.decoder,
      String as unknown as (frame: TcpFrame) => T,
    ),
    maxFrameBytes,
    maxConnections: wholeNumber(p('maxConnections'), o.maxConnections, 1024, 1),
    idleTimeoutMs: wholeNumber(p('idleTimeoutMs'), o.idleTimeoutMs, 60_000, 1),
    maxBufferedRecords: wholeNumber(p('maxBufferedRecords'), o.maxBufferedRecords, 1024, 1),
    tls: tlsOption(p('tls'), o.tls),
  }
}

function addressCallback<T>(o: TcpServerSourceOptions<T>, p: (name: string) => string): AddressCallback | undefined {
  const retry = retrySchedule(p('callbackRetry'), o.callbackRetry)
  const timeoutMs = wholeNumber(p('callbackTimeoutMs'), o.callbackTimeoutMs, 5_000, 1)
  if (o.callbackUrl === undefined) return undefined
  let url: URL | undefined
  try {
    url = new URL(nonEmptyString(p('callbackUrl'), o.callbackUrl))
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new ConfigError(p('callbackUrl'), '(not shown)', 'an http:// or https:// URL')
  return { url, retry, timeoutMs }
}

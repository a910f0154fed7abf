import type { IncomingHttpHeaders } from 'node:http'
import type { TlsOptions } from 'node:tls'
import { ConfigError } from '../../errors.js'
import type { IdempotencyStateV1 } from '../base/idempotency-keys.js'
import { type ServerPort, serverPort, tlsOption } from '../base/server-source.js'
import { finiteNumber, functionOption, nonEmptyString, oneOf, optionsObject, wholeNumber } from '../../util/options.js'

/** How a request body becomes values: one JSON value, one per NDJSON line, the text, the bytes, or the query. */
export type HttpBodyFormat = 'json' | 'ndjson' | 'text' | 'bytes' | 'query'

/** When a client gets its answer: 202 once its records are buffered, or 200 once a checkpoint covers them. */
export type HttpAckMode = 'accepted' | 'checkpointed'

/** What a full buffer does to a new request: answer 503 with Retry-After at once, or hold it up to `holdTimeoutMs`. */
export type HttpWhenFull = 'reject' | 'hold'

/** What a decoder sees of the request besides the decoded value. */
export interface HttpRequestInfo {
  readonly query: URLSearchParams
  readonly headers: IncomingHttpHeaders
}

/** Options of {@link HttpServerSource} (Bahir's HttpReceiverSource, with acknowledgements and backpressure). */
export interface HttpServerSourceOptions<T> {
  /** Interface to listen on. Default '127.0.0.1' (loopback: other hosts must be allowed explicitly). */
  host?: string
  /**
   * Port; 0 (default) lets the system pick one, read it from `source.address`. A range `{ from, to }`
   * gives each subtask its own port: subtask `i` listens on `from + i` (parallelism up to the range's
   * size). Idempotency-Keys are remembered per port: a client retries on the port it sent to.
   */
  port?: number | { from: number; to: number }
  /** When set, the server speaks HTTPS with these options (key, cert, ca, requestCert …). */
  tls?: TlsOptions
  /** The path records are POSTed to (and, for format 'query', GET too). Default '/'. */
  path?: string
  /** A GET here answers 200 with the buffer's fill, without a token. Default '/health'. */
  healthPath?: string
  /** When set, every request to `path` needs `Authorization: Bearer <token>` (401 otherwise). */
  token?: string
  /** How a body is decoded before `decoder`. Default 'json'. */
  format?: HttpBodyFormat
  /** Maps each decoded value to a record; throwing makes the request a 400 and a dead letter. Default: the value. */
  decoder?: (value: unknown, request: HttpRequestInfo) => T
  /** A larger body is answered 413 and counted as a dead letter. Default 1 MiB. */
  maxBodyBytes?: number
  /** Time to receive a request's headers (Node's headersTimeout). Default 10 000 ms. */
  headersTimeoutMs?: number
  /** Time to receive a whole request (Node's requestTimeout): a slow sender is cut off. Default 30 000 ms. */
  requestTimeoutMs?: number
  /** Idle keep-alive connections are closed after this. Default 5 000 ms. */
  keepAliveTimeoutMs?: number
  /** Connections beyond this are refused by the server. Default 1024. */
  maxConnections?: number
  /** Default 'accepted'. */
  ackMode?: HttpAckMode
  /** Records buffered for the job before requests are refused or held. Default 1024. */
  maxBufferedRecords?: number
  /** Default 'reject'. */
  whenFull?: HttpWhenFull
  /** With whenFull 'hold': how long a request waits for room before its 503. Default 5 000 ms. */
  holdTimeoutMs?: number
  /** The Retry-After header of a 503, in seconds. Default 1. */
  retryAfterSeconds?: number
  /** How long an Idempotency-Key is remembered (in checkpoints too) after its records were covered. Default 600 000 ms. */
  idempotencyWindowMs?: number
}

/** The validated options, defaults applied. */
export interface HttpServerSettings<T> {
  readonly host: string
  readonly port: ServerPort
  readonly tls: TlsOptions | undefined
  readonly path: string
  readonly healthPath: string
  readonly token: string | undefined
  readonly format: HttpBodyFormat
  readonly decoder: ((value: unknown, request: HttpRequestInfo) => T) | undefined
  readonly maxBodyBytes: number
  readonly headersTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  readonly maxConnections: number
  readonly ackMode: HttpAckMode
  readonly maxBufferedRecords: number
  readonly whenFull: HttpWhenFull
  readonly holdTimeoutMs: number
  readonly retryAfterSeconds: number
  readonly idempotencyWindowMs: number
}

/** The source's checkpointed state (version 1): the Idempotency-Keys whose records the checkpoint holds. */
export type HttpSourceStateV1 = IdempotencyStateV1

/** What the source counted since it was built (across restarts); every refused request is in one count. */
export interface HttpSourceStats {
  requests: number
  records: number
  /** 400: the body or the decoder failed (each also a dead letter). */
  badRequests: number
  /** 413: the body exceeded maxBodyBytes (each also a dead letter). */
  tooLarge: number
  /** 401: missing or wrong token. */
  unauthorized: number
  /** 503: the buffer stayed full. */
  rejected: number
  /** Requests whose Idempotency-Key was already covered: answered, not counted again. */
  duplicates: number
}

const KNOWN = [
  'host',
  'port',
  'tls',
  'path',
  'healthPath',
  'token',
  'format',
  'decoder',
  'maxBodyBytes',
  'headersTimeoutMs',
  'requestTimeoutMs',
  'keepAliveTimeoutMs',
  'maxConnections',
  'ackMode',
  'maxBufferedRecords',
  'whenFull',
  'holdTimeoutMs',
  'retryAfterSeconds',
  'idempotencyWindowMs',
] as const

/**
 * Validates {@link HttpServerSourceOptions} and applies the defaults; a bad option is a ConfigError
 * naming `httpServerSource.<option>`.
 *
 * @example
 * httpServerSettings({ port: 8080, ackMode: 'checkpointed' }).host // '127.0.0.1'
 */
export function httpServerSettings<T>(options: HttpServerSourceOptions<T> | undefined): HttpServerSettings<T> {
  const o = optionsObject('httpServerSource', options, KNOWN)
  const p = (name: string): string => `httpServerSource.${name}`
  const path = nonEmptyString(p('path'), o.path, '/')
  const healthPath = nonEmptyString(p('healthPath'), o.healthPath, '/health')
  if (!path.startsWith('/')) throw new ConfigError(p('path'), path, "a path starting with '/'")
  if (!healthPath.startsWith('/') || healthPath === path)
    throw new ConfigError(p('healthPath'), healthPath, "a path starting with '/', other than path")
  const headersTimeoutMs = wholeNumber(p('headersTimeoutMs'), o.headersTimeoutMs, 10_000, 1)
  const requestTimeoutMs = wholeNumber(p('requestTimeoutMs'), o.requestTimeoutMs, 30_000, 1)
  if (requestTimeoutMs < headersTimeoutMs)
    throw new ConfigError(p('requestTimeoutMs'), requestTimeoutMs, `at least headersTimeoutMs (${headersTimeoutMs})`)
  return {
    host: nonEmptyString(p('host'), o.host, '127.0.0.1'),
    port: serverPort(p('port'), o.port),
    tls: tlsOption(p('tls'), o.tls),
    path,
    healthPath,
    token: o.token === undefined ? undefined : nonEmptyString(p('token'), o.token),
    format: oneOf(p('format'), o.format, ['json', 'ndjson', 'text', 'bytes', 'query'], 'json'),
    decoder:
      o.decoder === undefined
        ? undefined
        : functionOption<(value: unknown, request: HttpRequestInfo) => T>(p('decoder'), o.decoder),
    maxBodyBytes: wholeNumber(p('maxBodyBytes'), o.maxBodyBytes, 1 << 20, 1),
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: wholeNumber(p('keepAliveTimeoutMs'), o.keepAliveTimeoutMs, 5_000, 1),
    maxConnections: wholeNumber(p('maxConnections'), o.maxConnections, 1024, 1),
    ackMode: oneOf(p('ackMode'), o.ackMode, ['accepted', 'checkpointed'], 'accepted'),
    maxBufferedRecords: wholeNumber(p('maxBufferedRecords'), o.maxBufferedRecords, 1024, 1),
    whenFull: oneOf(p('whenFull'), o.whenFull, ['reject', 'hold'], 'reject'),
    holdTimeoutMs: finiteNumber(p('holdTimeoutMs'), o.holdTimeoutMs, 5_000),
    retryAfterSeconds: wholeNumber(p('retryAfterSeconds'), o.retryAfterSeconds, 1, 0),
    idempotencyWindowMs: finiteNumber(p('idempotencyWindowMs'), o.idempotencyWindowMs, 600_000),
  }
}

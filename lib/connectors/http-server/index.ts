import type { HttpServerSourceOptions } from './options.js'
import { HttpServerSource } from './source.js'

export { decodeBody } from './body-decoder.js'
export { IdempotencyKeys } from '../base/idempotency-keys.js'
export {
  httpServerSettings,
  type HttpAckMode,
  type HttpBodyFormat,
  type HttpRequestInfo,
  type HttpServerSettings,
  type HttpServerSourceOptions,
  type HttpSourceStateV1,
  type HttpSourceStats,
  type HttpWhenFull,
} from './options.js'
export { HttpServerReader, type HttpReaderHost } from './reader.js'
export type { ServerAddress } from '../base/server-address.js'
export type { ServerPort } from '../base/server-source.js'
export { HttpServerSource } from './source.js'

/**
 * A source taking records POSTed to an HTTP server the job runs; see {@link HttpServerSource}.
 *
 * @example
 * const source = httpServerSource<{ n: number }>({ port: 8080, ackMode: 'checkpointed', token: process.env.INGEST_TOKEN })
 * env.fromSource(source, { uid: 'ingest' })
 */
export function httpServerSource<T = unknown>(options?: HttpServerSourceOptions<T>): HttpServerSource<T> {
  return new HttpServerSource(options)
}

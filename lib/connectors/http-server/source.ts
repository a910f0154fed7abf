import type { SourceReaderContext } from '../../runtime/source.js'
import { ServerSourceBase, type ServerReaderHost } from '../base/server-source.js'
import {
  httpServerSettings,
  type HttpServerSettings,
  type HttpServerSourceOptions,
  type HttpSourceStateV1,
  type HttpSourceStats,
} from './options.js'
import { HttpServerReader } from './reader.js'

/**
 * Records POSTed to an HTTP server the job runs (Bahir's HttpReceiverSource), with backpressure and
 * acknowledgements that say what happened to them:
 * - ackMode 'accepted': 202 once the request's records are buffered. At-most-once: a crash loses
 *   what was buffered and not yet checkpointed downstream.
 * - ackMode 'checkpointed': 200 only when the checkpoint covering the request's records completed, so
 *   a 200 means durable. With an `Idempotency-Key` header, a retry of a request whose records a
 *   checkpoint holds is answered 200 without taking them again (keys are kept in checkpoints for
 *   `idempotencyWindowMs`): exactly-once for clients that retry until 200.
 * A full buffer answers 503 with Retry-After (or holds the request, whenFull 'hold'); a body that
 * cannot be decoded is a 400 and a dead letter; one over maxBodyBytes a 413 and a dead letter.
 *
 * The bound address is `source.address` (and the log line 'http source listening', and the subtask's
 * `listeningPort` metric); with port 0 the first start picks a port and a restart in the same process
 * binds the same one again. With `tls` the server speaks HTTPS. With a port range `{ from, to }` subtask
 * `i` listens on `from + i` (parallelism up to the range's size); Idempotency-Keys are remembered per
 * port (a client retries where it sent), and a restore gives every subtask every restored key.
 *
 * @example
 * const source = new HttpServerSource<{ n: number }>({ port: 0, ackMode: 'checkpointed' })
 * env.fromSource(source, { uid: 'ingest' }).print()
 * // after the job runs: fetch(source.address!.url, { method: 'POST', body: '{"n":1}' })
 */
export class HttpServerSource<T = unknown> extends ServerSourceBase<
  T,
  HttpSourceStateV1,
  HttpSourceStats,
  HttpServerReader<T>
> {
  readonly settings: HttpServerSettings<T>
  /** Every subtask remembers every restored Idempotency-Key: a retry whose port a rescale removed is still recognised on another. */
  readonly restoredSplits = 'all'
  readonly commitsOnCheckpoint: boolean
  readonly acknowledgesOnCheckpoint: boolean
  /** Counts since the source was built, across restarts. */
  readonly stats: HttpSourceStats = {
    requests: 0,
    records: 0,
    badRequests: 0,
    tooLarge: 0,
    unauthorized: 0,
    rejected: 0,
    duplicates: 0,
  }

  constructor(options?: HttpServerSourceOptions<T>) {
    const settings = httpServerSettings(options)
    super('http-server', settings.tls === undefined ? 'http' : 'https', settings.path, settings)
    this.settings = settings
    this.commitsOnCheckpoint = settings.ackMode === 'checkpointed'
    this.acknowledgesOnCheckpoint = settings.ackMode === 'checkpointed'
  }

  protected createServerReader(
    context: SourceReaderContext,
    host: ServerReaderHost<HttpSourceStats>,
    restored: HttpSourceStateV1[],
  ): HttpServerReader<T> {
    return new HttpServerReader(this.settings, host, context.processingTime, restored)
  }
}

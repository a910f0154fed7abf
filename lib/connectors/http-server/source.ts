import type { AddressInfo } from 'node:net'
import { BoundAddress, type ServerAddress } from '../base/server-address.js'
import type { Source, SourceReaderContext } from '../../runtime/source.js'
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
 * The bound address is `source.address` (and the log line 'http source listening'); with port 0 the
 * first start picks a port and a restart in the same process binds the same one again. One subtask
 * (maxParallelism 1): run several jobs or sources for several ports.
 *
 * @example
 * const source = new HttpServerSource<{ n: number }>({ port: 0, ackMode: 'checkpointed' })
 * env.fromSource(source, { uid: 'ingest' }).print()
 * // after the job runs: fetch(source.address!.url, { method: 'POST', body: '{"n":1}' })
 */
export class HttpServerSource<T = unknown> implements Source<T, HttpSourceStateV1> {
  readonly name = 'http-server'
  readonly bounded = false
  readonly maxParallelism = 1
  readonly settings: HttpServerSettings<T>
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
  private readonly bound: BoundAddress

  constructor(options?: HttpServerSourceOptions<T>) {
    this.settings = httpServerSettings(options)
    this.bound = new BoundAddress('http', this.settings.path)
    this.commitsOnCheckpoint = this.settings.ackMode === 'checkpointed'
    this.acknowledgesOnCheckpoint = this.settings.ackMode === 'checkpointed'
  }

  /**
   * Where the server listens, once a reader started (undefined before).
   *
   * @example
   * await fetch(source.address!.url, { method: 'POST', body: '{"n":1}' })
   */
  get address(): ServerAddress | undefined {
    return this.bound.address
  }

  /**
   * Resolves with the address once the server listens.
   *
   * @example
   * const { url } = await source.listening()
   */
  listening(): Promise<ServerAddress> {
    return this.bound.listening()
  }

  /**
   * The reader of the one subtask; restored splits hold the remembered Idempotency-Keys.
   *
   * @example
   * const reader = source.createReader({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createReader(context: SourceReaderContext, restored: HttpSourceStateV1[] = []): HttpServerReader<T> {
    const host = {
      name: this.name,
      stats: this.stats,
      boundPort: this.bound.port,
      listening: (address: AddressInfo) => this.bound.set(address),
    }
    return new HttpServerReader(
      this.settings,
      host,
      context.processingTime,
      context.subtask,
      context.logger,
      context.deadLetter,
      restored,
    )
  }
}

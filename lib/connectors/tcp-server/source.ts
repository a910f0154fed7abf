import type { AddressInfo } from 'node:net'
import type { Source, SourceReaderContext } from '../../runtime/source.js'
import { BoundAddress, type ServerAddress } from '../base/server-address.js'
import { LengthPrefixedFrames, LineFrames } from './frames.js'
import {
  tcpServerSettings,
  type TcpServerSettings,
  type TcpServerSourceOptions,
  type TcpSourceStats,
} from './options.js'
import { TcpServerReader } from './reader.js'

/**
 * Records framed out of the bytes TCP clients send to a server the job runs (Bahir's Netty
 * TcpReceiverSource): many connections at once, lines, length-prefixed or custom frames, a frame size
 * limit, a connection limit, an idle timeout, optional TLS. When the buffer is full every connection is
 * paused, so memory stays bounded whatever clients send.
 *
 * Guarantee: **at-most-once** (a TCP client cannot be asked to resend; what is buffered at a failure
 * is lost). An oversized frame closes its connection with a dead letter and a log line; a frame the
 * decoder refuses is a dead letter. The bound address is `source.address` (port 0 picks one; a restart
 * in the same process binds it again). One subtask (maxParallelism 1).
 *
 * @example
 * const source = new TcpServerSource<string>({ port: 9000 })
 * env.fromSource(source).print()
 * // printf 'a\nb\n' | nc 127.0.0.1 9000
 */
export class TcpServerSource<T = string> implements Source<T, never> {
  readonly name = 'tcp-server'
  readonly bounded = false
  readonly maxParallelism = 1
  readonly settings: TcpServerSettings<T>
  /** Counts since the source was built, across restarts. */
  readonly stats: TcpSourceStats = { connections: 0, records: 0, badFrames: 0, oversized: 0, idleClosed: 0, pauses: 0 }
  private readonly bound: BoundAddress

  constructor(options?: TcpServerSourceOptions<T>) {
    this.settings = tcpServerSettings(options, (framing, max) =>
      framing === 'lines' ? new LineFrames(max) : new LengthPrefixedFrames(max),
    )
    this.bound = new BoundAddress(this.settings.tls === undefined ? 'tcp' : 'tls')
  }

  /**
   * Where the server listens, once a reader started (undefined before).
   *
   * @example
   * net.connect(source.address!.port, source.address!.host)
   */
  get address(): ServerAddress | undefined {
    return this.bound.address
  }

  /**
   * Resolves with the address once the server listens.
   *
   * @example
   * const { port } = await source.listening()
   */
  listening(): Promise<ServerAddress> {
    return this.bound.listening()
  }

  /**
   * The reader of the one subtask (nothing is restored: at-most-once).
   *
   * @example
   * const reader = source.createReader({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createReader(context: SourceReaderContext): TcpServerReader<T> {
    const host = {
      name: this.name,
      stats: this.stats,
      boundPort: this.bound.port,
      listening: (address: AddressInfo) => this.bound.set(address),
    }
    return new TcpServerReader(
      this.settings,
      host,
      context.processingTime,
      context.subtask,
      context.logger,
      context.deadLetter,
    )
  }
}

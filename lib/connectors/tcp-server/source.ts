import type { SourceReaderContext } from '../../runtime/source.js'
import { ServerSourceBase, type ServerReaderHost } from '../base/server-source.js'
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
 * in the same process binds it again) and the `listeningPort` metric of each subtask; `callbackUrl` is
 * told it. One subtask, or with `port: { from, to }` up to one subtask per port of the range, each
 * listening on its own (`source.addresses`).
 *
 * @example
 * const source = new TcpServerSource<string>({ port: 9000 })
 * env.fromSource(source).print()
 * // printf 'a\nb\n' | nc 127.0.0.1 9000
 */
export class TcpServerSource<T = string> extends ServerSourceBase<T, never, TcpSourceStats, TcpServerReader<T>> {
  readonly settings: TcpServerSettings<T>
  /** Counts since the source was built, across restarts and subtasks. */
  readonly stats: TcpSourceStats = { connections: 0, records: 0, badFrames: 0, oversized: 0, idleClosed: 0, pauses: 0 }

  constructor(options?: TcpServerSourceOptions<T>) {
    const settings = tcpServerSettings(options, (framing, max) =>
      framing === 'lines' ? new LineFrames(max) : new LengthPrefixedFrames(max),
    )
    super('tcp-server', settings.tls === undefined ? 'tcp' : 'tls', '', settings)
    this.settings = settings
  }

  protected createServerReader(
    _context: SourceReaderContext,
    host: ServerReaderHost<TcpSourceStats>,
  ): TcpServerReader<T> {
    return new TcpServerReader(this.settings, host)
  }
}

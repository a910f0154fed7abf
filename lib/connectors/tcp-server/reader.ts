import { createServer as createTcpServer, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { Availability } from '../../runtime/availability.js'
import type { InputStatus, SourceOutput, SourceReader } from '../../runtime/source.js'
import type { ServerReaderHost } from '../base/server-source.js'
import { type FrameSink, FrameTooLargeError, type TcpFrame } from './frames.js'
import type { TcpServerSettings, TcpSourceStats } from './options.js'
import { RecordChunks } from './record-chunks.js'
import { readIntoSharedBuffer } from './shared-read-buffer.js'

/** Records one poll emits at most; what exceeds the subtask's credit waits in its output queue. */
const POLL_BATCH = 256

/** The shared read buffer's size: libuv's read size, so a read fills at most one. */
const READ_BUFFER_BYTES = 64 * 1024

/** What the reader needs of its source besides the settings. */
export type TcpReaderHost = ServerReaderHost<TcpSourceStats>

/**
 * The reader of the TCP server source: a `net` (or `tls`) server whose connections' frames are
 * decoded into one bounded buffer that `pollNext` empties.
 *
 * Plain-TCP connections with line framing are read into one buffer they share
 * ({@link readIntoSharedBuffer}: no allocation per read); TLS, length-prefixed and custom framings, whose
 * frames may point into the bytes, read as streams.
 *
 * Threading: socket events and `pollNext` run on the one event loop.
 *
 * Bounds: when `maxBufferedRecords` records wait, every connection is paused (no read: the kernel's
 * window fills and the clients' writes block) and new ones start paused; reading resumes below half.
 * What one read brings beyond the limit is still taken (one chunk per connection, at most
 * 64 KiB each), and each connection holds at most `maxFrameBytes` of an unfinished frame, so memory is
 * bounded by maxBufferedRecords + maxConnections × (64 KiB + maxFrameBytes) whatever clients send.
 *
 * @example
 * const reader = tcpServerSource({ port: 0 }).createReader(context)
 * await reader.start()
 */
export class TcpServerReader<T> implements SourceReader<T, never>, FrameSink {
  private readonly server: Server
  private readonly available = new Availability()
  /** Decoded records not yet emitted, of every connection, in arrival order, a chunk per `data` event. */
  private readonly records = new RecordChunks<T>()
  private readonly sockets = new Set<Socket>()
  private paused = false
  /**
   * The one buffer plain-TCP connections with line framing are read into ({@link readIntoSharedBuffer}):
   * lines are cut into strings within the read, so nothing points into it afterwards.
   */
  private readonly readBuffer: Buffer | undefined

  constructor(
    private readonly settings: TcpServerSettings<T>,
    private readonly host: TcpReaderHost,
  ) {
    const onConnection = (socket: Socket): void => this.accept(socket)
    const plainLines = settings.tls === undefined && settings.framingName === 'lines'
    this.readBuffer = plainLines ? Buffer.allocUnsafe(READ_BUFFER_BYTES) : undefined
    this.server =
      settings.tls === undefined
        ? createTcpServer({ pauseOnConnect: plainLines }, onConnection)
        : createTlsServer(settings.tls, onConnection).on('tlsClientError', (error) =>
            host.log?.warn('tls handshake failed', { reason: error.message }),
          )
    this.server.maxConnections = settings.maxConnections
  }

  /** Records received and not yet emitted. */
  get bufferedRecords(): number {
    return this.records.size
  }

  /** Open connections. */
  get connections(): number {
    return this.sockets.size
  }

  /** Whether every connection is paused because the buffer is full. */
  get isPaused(): boolean {
    return this.paused
  }

  async start(): Promise<void> {
    await this.host.listen(this.server, 'tcp source')
  }

  /** Emits up to {@link POLL_BATCH} records: a poll costs about as much as a cheap record in the runtime. */
  pollNext(output: SourceOutput<T>): InputStatus {
    const records = this.records
    records.emitTo(output, POLL_BATCH)
    if (this.paused && records.size <= this.settings.maxBufferedRecords / 2) this.resumeAll()
    return records.size > 0 ? 'more' : 'nothing-available'
  }

  isAvailable(): Promise<void> {
    return this.available.promise
  }

  /** Always empty: a TCP client cannot be asked to resend (at-most-once). */
  snapshotState(): never[] {
    return []
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const socket of this.sockets) socket.destroy()
      if (!this.server.listening) return resolve()
      this.server.close(() => resolve())
    })
  }

  private accept(accepted: Socket): void {
    const s = this.settings
    const frames = s.framing()
    // a custom decoder without pushTo gets a closure
    const emit = frames.pushTo === undefined ? (frame: TcpFrame): void => this.frame(frame) : undefined
    const read = (chunk: Buffer): void => {
      try {
        if (emit === undefined) frames.pushTo!(chunk, this)
        else frames.push(chunk, emit)
      } catch (error) {
        if (!(error instanceof FrameTooLargeError)) throw error
        this.host.stats.oversized++
        this.host.deadLetters.send(undefined, error.message)
        this.host.log?.warn('tcp connection closed: frame too large', {
          remote: socket.remoteAddress,
          reason: error.message,
        })
        socket.destroy()
      }
      this.took()
      if (this.records.size >= s.maxBufferedRecords && !this.paused) this.pauseAll()
    }
    const shared = this.readBuffer === undefined ? undefined : readIntoSharedBuffer(accepted, this.readBuffer, read)
    const socket = shared ?? accepted
    this.host.stats.connections++
    this.sockets.add(socket)
    if (this.paused) socket.pause()
    else if (shared === undefined && this.readBuffer !== undefined) socket.resume() // accepted paused (pauseOnConnect)
    socket.setTimeout(s.idleTimeoutMs)
    socket.on('timeout', () => {
      // a connection paused by backpressure is not idle: wait another period
      if (this.paused) return void socket.setTimeout(s.idleTimeoutMs)
      this.host.stats.idleClosed++
      this.host.log?.info('tcp connection closed after idleTimeoutMs', {
        remote: socket.remoteAddress,
        idleTimeoutMs: s.idleTimeoutMs,
      })
      socket.destroy()
    })
    if (shared === undefined) socket.on('data', read)
    socket.on('error', () => {})
    socket.on('close', () => this.sockets.delete(socket))
  }

  /** Decodes one frame into the buffer, or dead-letters it (the connections' frame decoders call it). */
  frame(frame: TcpFrame): void {
    let record: T
    try {
      record = this.settings.decoder(frame)
    } catch (error) {
      this.host.stats.badFrames++
      this.host.deadLetters.send(String(frame).slice(0, 1024), (error as Error).message, error)
      return
    }
    this.records.add(record)
  }

  /**
   * Queues what one `data` event decoded as one chunk, counts it, and wakes the subtask when these are
   * the only records waiting.
   */
  private took(): void {
    const decoded = this.records.seal()
    if (decoded === 0) return
    this.host.stats.records += decoded
    if (this.records.size === decoded) this.available.signal()
  }

  private pauseAll(): void {
    this.paused = true
    this.host.stats.pauses++
    for (const socket of this.sockets) socket.pause()
  }

  private resumeAll(): void {
    this.paused = false
    for (const socket of this.sockets) socket.resume()
  }
}

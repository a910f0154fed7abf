import type { SocketTextSourceSettings } from './options.js'
import { ReconnectingConnection } from './connection.js'
import { StringDecoder } from 'node:string_decoder'
import { ConnectorError } from '../../errors.js'
import { Availability } from '../../runtime/availability.js'
import type { InputStatus, SourceOutput, SourceReader } from '../../runtime/source.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { DelimitedLineBuffer } from './delimited-line-buffer.js'

/**
 * The reader of {@link SocketTextSource}: one connection at a time, a bounded line buffer, pause and
 * resume on the socket. `bufferedLines`, `paused` and `pauseCount` let a caller watch the backpressure.
 *
 * @example
 * const reader = new SocketTextSource('127.0.0.1', 9999).createReader(context)
 * await reader.start()
 */
export class SocketTextReader implements SourceReader<string, never> {
  private readonly lines: DelimitedLineBuffer
  private readonly available = new Availability()
  private decoder: StringDecoder
  private readonly connection: ReconnectingConnection
  private ended = false
  private closed = false
  private failure: ConnectorError | undefined
  private pausedForBackpressure = false
  /** How often the socket was paused because the buffer was full. */
  pauseCount = 0
  constructor(
    private readonly source: SocketTextSourceSettings,
    processingTime: ProcessingTimeService,
  ) {
    this.lines = new DelimitedLineBuffer(source.delimiter, source.maxBufferedLines, source.maxLineLength)
    this.decoder = new StringDecoder(source.encoding)
    this.connection = new ReconnectingConnection(
      `socketTextStream ${this.address}`,
      source.host,
      source.port,
      source.retry,
      processingTime,
      {
        created: (socket) => {
          this.decoder = new StringDecoder(this.source.encoding)
          // A paused reader stays paused across a reconnection: its buffer is still full.
          if (this.pausedForBackpressure) socket.pause()
          socket.on('data', (chunk: Buffer) => this.receive(this.decoder.write(chunk)))
        },
        opened: () => {},
        closed: (wasConnected) => this.onClose(wasConnected),
        failed: (error) => this.fail(error),
      },
    )
  }

  /** How many connections were established. */
  get connections(): number {
    return this.connection.connections
  }

  /** Lines received and not yet handed out; never more than `maxBufferedLines`. */
  get bufferedLines(): number {
    return this.lines.size
  }

  /** Whether reading from the socket is paused because the buffer is full. */
  get paused(): boolean {
    return this.pausedForBackpressure
  }

  /** Whether a connection is open now. */
  get isConnected(): boolean {
    return this.connection.connected
  }

  start(): void {
    this.connection.open()
  }

  pollNext(output: SourceOutput<string>): InputStatus {
    const line = this.lines.take()
    if (line === undefined) {
      if (this.failure !== undefined) throw this.failure
      return this.ended ? 'end' : 'nothing-available'
    }
    output.collect(line)
    if (
      this.lines.size < this.source.maxBufferedLines / 2 &&
      (this.pausedForBackpressure || this.lines.uncutLength > 0)
    )
      this.refill()
    if (this.lines.size > 0) return 'more'
    return this.ended && this.failure === undefined ? 'end' : 'nothing-available'
  }

  isAvailable(): Promise<void> {
    return this.available.promise
  }

  /** Always empty: a socket cannot be rewound (at-most-once). */
  snapshotState(): never[] {
    return []
  }

  close(): void {
    this.closed = true
    void this.connection.close()
  }

  private receive(text: string): void {
    if (text === '') return
    const before = this.lines.size
    if (!this.lines.append(text)) {
      this.failLineTooLong()
      return
    }
    if (this.lines.full && !this.pausedForBackpressure) {
      this.connection.socket?.pause()
      this.pausedForBackpressure = true
      this.pauseCount++
    }
    if (this.lines.size > before) this.available.signal()
  }

  /** The buffer fell below half: cut what was received beyond it, and read on if that is all. */
  private refill(): void {
    if (!this.lines.cut()) {
      this.failLineTooLong()
      return
    }
    if (this.lines.full || !this.pausedForBackpressure) return
    this.pausedForBackpressure = false
    this.connection.socket?.resume()
  }

  /** The connection closed: hand out its last line; end (no retries configured) or let it reconnect. */
  private onClose(wasConnected: boolean): boolean {
    if (this.closed || this.failure !== undefined) return false
    if (wasConnected) {
      const rest = this.decoder.end()
      if (rest !== '') this.receive(rest)
      this.lines.terminate()
      this.available.signal()
      if (this.source.retry.maxRetries === 0) {
        this.ended = true
        return false
      }
    }
    return true
  }

  private failLineTooLong(): void {
    this.fail(
      new ConnectorError(
        'ERR_LINE_TOO_LONG',
        `socketTextStream ${this.address}: a line exceeds maxLineLength (${this.source.maxLineLength} characters) without delimiter ${JSON.stringify(this.source.delimiter)}`,
      ),
    )
  }

  private fail(error: ConnectorError): void {
    this.failure ??= error
    void this.connection.close()
    this.available.signal()
  }

  private get address(): string {
    return `${this.source.host}:${this.source.port}`
  }
}

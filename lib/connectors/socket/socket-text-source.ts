import { connect, type Socket } from 'node:net'
import { StringDecoder } from 'node:string_decoder'
import { backoffDelay } from '../../actors/backoff.js'
import { ConfigError, ConnectorError, messageOf } from '../../errors.js'
import { Availability } from '../../runtime/availability.js'
import type { InputStatus, Source, SourceOutput, SourceReader, SourceReaderContext } from '../../runtime/source.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { DelimitedLineBuffer } from './delimited-line-buffer.js'
import { validateHost, validateOptionsObject, validatePort, validateRetry, type RetrySettings, type SocketTextSourceOptions } from './options.js'

/**
 * Emits the text a TCP server sends, cut into records at `delimiter` (Flink's socketTextStream).
 *
 * Backpressure goes through the socket: at most `maxBufferedLines` lines wait for downstream; when
 * they are reached the socket is paused (`socket.pause()`: Node stops reading, the kernel's receive
 * window fills and the server's `write()` returns false), and it is resumed once the job took the
 * buffer below half.
 *
 * Connection rule: the first attempt and every reconnection get `maxRetries` retries, with delays of
 * `retryDelayMs` doubling up to `maxRetryDelayMs`; the retries are counted afresh after each successful
 * connection. When the server closes or drops the connection:
 * - with `maxRetries` 0 the source ends ('end'), as Flink's does — a bounded stream of one connection;
 * - otherwise it reconnects; when the retries are used up, `pollNext` throws ConnectorError 'ERR_CONNECT'
 *   (retriable) naming host:port and the number of attempts — after the lines received before.
 * A line still missing its delimiter when a connection ends is emitted as that connection's last line,
 * never glued to the text of the next connection.
 *
 * Guarantee: **at-most-once**. A socket cannot be rewound, so `snapshotState` returns [] and a
 * restored job reads on from whatever the server sends then; lines buffered at a failure are lost.
 * One subtask only (maxParallelism 1).
 *
 * @example
 * // nc -lk 9999, then type lines
 * env.fromSource(new SocketTextSource('localhost', 9999)).pipe(flatMap((line: string) => line.split(' ')))
 */
export class SocketTextSource implements Source<string, never> {
  readonly name = 'socket-text'
  readonly bounded = false
  readonly maxParallelism = 1
  readonly host: string
  readonly port: number
  readonly delimiter: string
  readonly encoding: BufferEncoding
  readonly maxBufferedLines: number
  readonly maxLineLength: number
  readonly retry: RetrySettings

  constructor(host: string, port: number, options: SocketTextSourceOptions = {}) {
    this.host = validateHost('socketTextStream.host', host)
    this.port = validatePort('socketTextStream.port', port)
    validateOptionsObject('socketTextStream options', options)
    const { delimiter = '\n', encoding = 'utf8', maxBufferedLines = 1024, maxLineLength = 1 << 20 } = options
    if (typeof delimiter !== 'string' || delimiter === '') throw new ConfigError('socketTextStream.delimiter', delimiter, 'a non-empty string')
    if (typeof encoding !== 'string' || !Buffer.isEncoding(encoding)) throw new ConfigError('socketTextStream.encoding', encoding, 'a Node.js buffer encoding such as utf8')
    if (!Number.isSafeInteger(maxBufferedLines) || maxBufferedLines < 1) throw new ConfigError('socketTextStream.maxBufferedLines', maxBufferedLines, 'a whole number of at least 1')
    if (!Number.isSafeInteger(maxLineLength) || maxLineLength < 1) throw new ConfigError('socketTextStream.maxLineLength', maxLineLength, 'a whole number of at least 1')
    this.delimiter = delimiter
    this.encoding = encoding
    this.maxBufferedLines = maxBufferedLines
    this.maxLineLength = maxLineLength
    this.retry = validateRetry('socketTextStream', options)
  }

  /**
   * The reader; it starts connecting in `start()`. Restored splits are ignored (there are none).
   *
   * @example
   * const reader = source.createReader({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createReader(context: SourceReaderContext): SocketTextReader {
    return new SocketTextReader(this, context.processingTime)
  }
}

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
  private socket: Socket | undefined
  private connected = false
  private retriesLeft: number
  private retriesUsed = 0
  /** Connection attempts since the last successful connection, for the error message. */
  private attempts = 0
  private lastError: Error | undefined
  private cancelRetry: (() => void) | undefined
  private ended = false
  private closed = false
  private failure: ConnectorError | undefined
  private pausedForBackpressure = false
  /** How often the socket was paused because the buffer was full. */
  pauseCount = 0
  /** How many connections were established. */
  connections = 0

  constructor(private readonly source: SocketTextSource, private readonly processingTime: ProcessingTimeService) {
    this.lines = new DelimitedLineBuffer(source.delimiter, source.maxBufferedLines, source.maxLineLength)
    this.decoder = new StringDecoder(source.encoding)
    this.retriesLeft = source.retry.maxRetries
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
    return this.connected
  }

  start(): void {
    this.connect()
  }

  pollNext(output: SourceOutput<string>): InputStatus {
    const line = this.lines.take()
    if (line === undefined) {
      if (this.failure !== undefined) throw this.failure
      return this.ended ? 'end' : 'nothing-available'
    }
    output.collect(line)
    if (this.lines.size < this.source.maxBufferedLines / 2 && (this.pausedForBackpressure || this.lines.uncutLength > 0)) this.refill()
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
    this.cancelRetry?.()
    this.socket?.destroy()
    this.socket = undefined
  }

  private connect(): void {
    if (this.closed) return
    this.cancelRetry = undefined
    this.attempts++
    const { host, port } = this.source
    const socket = connect({ host, port })
    this.socket = socket
    this.connected = false
    this.decoder = new StringDecoder(this.source.encoding)
    // A paused reader stays paused across a reconnection: its buffer is still full.
    if (this.pausedForBackpressure) socket.pause()
    socket.setTimeout(this.source.retry.connectTimeoutMs, () => {
      if (!this.connected) socket.destroy(new Error(`connection not established within ${this.source.retry.connectTimeoutMs} ms`))
    })
    socket.once('connect', () => {
      socket.setTimeout(0)
      this.connected = true
      this.connections++
      this.attempts = 0
      this.retriesUsed = 0
      this.retriesLeft = this.source.retry.maxRetries
    })
    socket.on('data', (chunk: Buffer) => this.receive(this.decoder.write(chunk)))
    socket.on('error', (error) => {
      this.lastError = error
    })
    socket.once('close', () => this.onClose(socket))
  }

  private receive(text: string): void {
    if (text === '') return
    const before = this.lines.size
    if (!this.lines.append(text)) {
      this.failLineTooLong()
      return
    }
    if (this.lines.full && !this.pausedForBackpressure) {
      this.socket?.pause()
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
    this.socket?.resume()
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket || this.closed || this.failure !== undefined) return
    const wasConnected = this.connected
    this.socket = undefined
    this.connected = false
    if (wasConnected) {
      const rest = this.decoder.end()
      if (rest !== '') this.receive(rest)
      this.lines.terminate()
      this.available.signal()
      if (this.source.retry.maxRetries === 0) {
        this.ended = true
        return
      }
    }
    if (this.retriesLeft === 0) {
      const reason = this.lastError === undefined ? 'connection closed' : messageOf(this.lastError)
      this.fail(new ConnectorError('ERR_CONNECT', `socketTextStream ${this.address}: no connection after ${this.attempts} attempt${this.attempts === 1 ? '' : 's'} (maxRetries ${this.source.retry.maxRetries}): ${reason}`, { cause: this.lastError, retriable: true }))
      return
    }
    this.retriesLeft--
    const { retryDelayMs, maxRetryDelayMs } = this.source.retry
    const delay = backoffDelay(this.retriesUsed++, { minMs: retryDelayMs, maxMs: maxRetryDelayMs })
    this.cancelRetry = this.processingTime.scheduleAt(this.processingTime.now() + delay, () => this.connect())
  }

  private failLineTooLong(): void {
    this.fail(new ConnectorError('ERR_LINE_TOO_LONG', `socketTextStream ${this.address}: a line exceeds maxLineLength (${this.source.maxLineLength} characters) without delimiter ${JSON.stringify(this.source.delimiter)}`))
  }

  private fail(error: ConnectorError): void {
    this.failure ??= error
    this.socket?.destroy()
    this.available.signal()
  }

  private get address(): string {
    return `${this.source.host}:${this.source.port}`
  }
}

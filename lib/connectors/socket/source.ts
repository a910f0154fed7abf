import { SocketTextReader } from './reader.js'
import { ConfigError } from '../../errors.js'
import type { Source, SourceReaderContext } from '../../runtime/source.js'
import { optionsObject } from '../../util/options.js'
import {
  validateHost,
  SOURCE_OPTIONS,
  validatePort,
  validateRetry,
  type RetrySettings,
  type SocketTextSourceOptions,
  type SocketTextSourceSettings,
} from './options.js'

/**
 * Emits the text a TCP server sends, cut into records at `delimiter` (Flink's socketTextStream).
 *
 * Backpressure goes through the socket: at most `maxBufferedLines` lines wait for downstream; when
 * they are reached the socket is paused (`socket.pause()`: Node stops reading, the kernel's receive
 * window fills and the server's `write()` returns false), and it is resumed once the job took the
 * buffer below half.
 *
 * Connection rule: the first attempt and every reconnection get `retry.maxRetries` retries, with delays
 * of `retry.initialDelayMs` doubling up to `retry.maxDelayMs`; the retries are counted afresh after each
 * successful connection. When the server closes or drops the connection:
 * - with `retry.maxRetries` 0 the source ends ('end'), as Flink's does — a bounded stream of one connection;
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
export class SocketTextSource implements Source<string, never>, SocketTextSourceSettings {
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
    optionsObject('socketTextStream', options, Object.keys(SOURCE_OPTIONS))
    const { delimiter = '\n', encoding = 'utf8', maxBufferedLines = 1024, maxLineLength = 1 << 20 } = options
    if (typeof delimiter !== 'string' || delimiter === '')
      throw new ConfigError('socketTextStream.delimiter', delimiter, 'a non-empty string')
    if (typeof encoding !== 'string' || !Buffer.isEncoding(encoding))
      throw new ConfigError('socketTextStream.encoding', encoding, 'a Node.js buffer encoding such as utf8')
    if (!Number.isSafeInteger(maxBufferedLines) || maxBufferedLines < 1)
      throw new ConfigError('socketTextStream.maxBufferedLines', maxBufferedLines, 'a whole number of at least 1')
    if (!Number.isSafeInteger(maxLineLength) || maxLineLength < 1)
      throw new ConfigError('socketTextStream.maxLineLength', maxLineLength, 'a whole number of at least 1')
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

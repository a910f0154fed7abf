import { SocketSinkWriter } from './writer.js'
import { ConfigError } from '../../errors.js'
import type { Sink, SinkWriterContext } from '../../runtime/sink.js'
import { optionsObject } from '../../util/options.js'
import {
  validateHost,
  SINK_OPTIONS,
  validatePort,
  validateRetry,
  type RetrySettings,
  type SocketSinkOptions,
  type SocketSinkSettings,
} from './options.js'

/**
 * Writes every record to a TCP server (Flink's writeToSocket), by default as `String(value) + '\n'`.
 * Each subtask opens its own connection.
 *
 * Backpressure: while `socket.write()` returned false, and while (re)connecting, `ready()` returns a
 * promise that resolves on 'drain' (or on the connection), so the job slows to the server's pace.
 * A dropped or refused connection is retried `maxRetries` times with a doubling delay; the retries are
 * counted afresh after each successful connection, and when they are used up the next `write`,
 * `ready`, `flush` or `close` fails with ConnectorError 'ERR_CONNECT' naming host:port.
 *
 * Guarantee: **at-most-once**. Records the socket had not yet handed to the operating system when the
 * connection dropped are sent again on the next connection; records the OS had accepted but the server
 * never read are lost, as TCP gives no acknowledgement a sender can see. `flush()` resolves when every
 * record written so far was handed to the OS.
 *
 * @example
 * // nc -lk 9999
 * stream.sinkTo(new SocketSink('localhost', 9999, { serializer: (e: Event) => JSON.stringify(e) + '\n' }))
 */
export class SocketSink<T> implements Sink<T>, SocketSinkSettings<T> {
  readonly name = 'socket'
  readonly guarantee = 'at-most-once'
  readonly host: string
  readonly port: number
  readonly serializer: (value: T) => string | Buffer
  readonly retry: RetrySettings

  constructor(host: string, port: number, options: SocketSinkOptions<T> = {}) {
    this.host = validateHost('socketSink.host', host)
    this.port = validatePort('socketSink.port', port)
    optionsObject('socketSink', options, Object.keys(SINK_OPTIONS))
    if (options.serializer !== undefined && typeof options.serializer !== 'function')
      throw new ConfigError('socketSink.serializer', options.serializer, 'a function (value) => string | Buffer')
    this.serializer = options.serializer ?? ((value: T) => `${String(value)}\n`)
    this.retry = validateRetry('socketSink', options)
  }

  /**
   * The writer of one subtask; it starts connecting at once, and `ready()` waits for the connection.
   *
   * @example
   * const writer = sink.createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createWriter(context: SinkWriterContext): SocketSinkWriter<T> {
    return new SocketSinkWriter(this, context.processingTime)
  }
}

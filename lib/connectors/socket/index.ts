import type { SocketSinkOptions, SocketTextSourceOptions } from './options.js'
import { SocketSink } from './sink.js'
import { SocketTextSource } from './source.js'

export { DelimitedLineBuffer } from './delimited-line-buffer.js'
export type { SocketRetryOptions, SocketSinkOptions, SocketTextSourceOptions } from './options.js'
export { SocketSink } from './sink.js'
export { SocketSinkWriter } from './writer.js'
export { SocketTextReader } from './reader.js'
export { SocketTextSource } from './source.js'

/**
 * The text a TCP server sends, one record per line (Flink's socketTextStream). At-most-once.
 *
 * @example
 * env.fromSource(socketTextStream('localhost', 9999, { delimiter: '\n', retry: { maxRetries: Infinity } }))
 */
export function socketTextStream(host: string, port: number, options?: SocketTextSourceOptions): SocketTextSource {
  return new SocketTextSource(host, port, options)
}

/**
 * A sink writing every record to a TCP server (Flink's writeToSocket). At-most-once.
 *
 * @example
 * stream.sinkTo(socketSink('localhost', 9999))
 */
export function socketSink<T>(host: string, port: number, options?: SocketSinkOptions<T>): SocketSink<T> {
  return new SocketSink<T>(host, port, options)
}

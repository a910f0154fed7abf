import type { FlumeSinkOptions } from './options.js'
import { FlumeSink } from './sink.js'

export { AVRO_SOURCE_PROTOCOL, type AvroFlumeEvent, type AvroStatus } from './avro-protocol.js'
export type {
  FlumeClientType,
  FlumeEvent,
  FlumeHostBackoffOptions,
  FlumeHostSelector,
  FlumeSinkOptions,
} from './options.js'
export { FlumeSink } from './sink.js'
export { FlumeSinkWriter } from './writer.js'

/**
 * A Flume sink: events (headers, body) to Flume agents over Avro RPC or HTTP, batched, at-least-once,
 * with Flume's client kinds (default, failover, load-balance).
 *
 * @example
 * stream.sinkTo(flumeSink({ hosts: '127.0.0.1:41414', mapper: (line: string) => ({ body: line }) }))
 */
export function flumeSink<T>(options: FlumeSinkOptions<T>): FlumeSink<T> {
  return new FlumeSink(options)
}

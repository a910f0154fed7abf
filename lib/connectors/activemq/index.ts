import type { ActiveMQSinkOptions, ActiveMQSourceOptions } from './options.js'
import { ActiveMQSink } from './sink.js'
import { ActiveMQSource } from './source.js'

export type {
  ActiveMQConnectionOptions,
  ActiveMQSinkOptions,
  ActiveMQSourceOptions,
  SourceGuarantee,
} from './options.js'
export type { ActiveMQMessage } from './options.js'
export { ActiveMQReader } from './reader.js'
export { ActiveMQSink } from './sink.js'
export { ActiveMQSinkWriter } from './writer.js'
export { ActiveMQSource } from './source.js'

/**
 * A stream of the messages of an ActiveMQ queue or durable topic subscription over STOMP (Bahir's
 * AMQSource); at-least-once by default, exactly-once with `guarantee: 'exactly-once'`. Needs
 * checkpointing unless `guarantee: 'at-most-once'`.
 *
 * @example
 * env.fromSource(activemqSource({ destination: '/queue/orders' }), { uid: 'orders' })
 *   .pipe(decode((m: ActiveMQMessage) => JSON.parse(m.body.toString())))
 */
export function activemqSource(options: ActiveMQSourceOptions): ActiveMQSource {
  return new ActiveMQSource(options)
}

/**
 * A sink sending every record to an ActiveMQ destination over STOMP as a persistent message (option
 * `persistent`, default true), receipts awaited on every checkpoint barrier (at-least-once).
 *
 * @example
 * stream.sinkTo(activemqSink<Order>({ destination: '/queue/orders' }))
 */
export function activemqSink<T>(options: ActiveMQSinkOptions<T>): ActiveMQSink<T> {
  return new ActiveMQSink<T>(options)
}

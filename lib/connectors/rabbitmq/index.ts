import type { RabbitMQSinkOptions, RabbitMQSourceOptions } from './options.js'
import { RabbitMQSink } from './sink.js'
import { RabbitMQSource } from './source.js'

export type { AckStateV1 } from '../base/checkpoint-acks.js'
export type {
  RabbitMQConnectionOptions,
  RabbitMQPublish,
  RabbitMQSinkOptions,
  RabbitMQSourceOptions,
  SourceGuarantee,
} from './options.js'
export type { ConnectionRetryOptions } from '../base/retry-options.js'
export type { RabbitMQMessage } from './options.js'
export { RabbitMQReader } from './reader.js'
export { RabbitMQSink } from './sink.js'
export { RabbitMQSinkWriter, UNROUTABLE_HEADER } from './writer.js'
export { RabbitMQSource } from './source.js'

/**
 * A stream of the messages of a RabbitMQ queue (Flink's RMQSource); at-least-once by default,
 * exactly-once with `guarantee: 'exactly-once'` and correlation ids. Needs checkpointing unless
 * `guarantee: 'at-most-once'`.
 *
 * @example
 * env.fromSource(rabbitmqSource({ url: 'amqp://guest:guest@127.0.0.1:5672', queue: 'orders' }), { uid: 'orders' })
 *   .pipe(decode((m: RabbitMQMessage) => JSON.parse(m.content.toString())))
 */
export function rabbitmqSource(options: RabbitMQSourceOptions): RabbitMQSource {
  return new RabbitMQSource(options)
}

/**
 * A sink publishing every record to a RabbitMQ exchange with publisher confirms (at-least-once).
 *
 * @example
 * stream.sinkTo(rabbitmqSink<Order>({ exchange: 'orders', routingKey: (o) => o.region }))
 */
export function rabbitmqSink<T>(options: RabbitMQSinkOptions<T>): RabbitMQSink<T> {
  return new RabbitMQSink<T>(options)
}

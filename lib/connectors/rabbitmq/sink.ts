import { amqplib } from './connection.js'
import { RabbitMQSinkWriter } from './writer.js'
import type { Sink, SinkWriterContext } from '../../runtime/sink.js'
import { type RabbitMQSinkOptions, type SinkSettings, sinkSettings } from './options.js'

/**
 * Publishes every record to a RabbitMQ exchange with a routing key (Flink's RMQSink), on a channel in
 * confirm mode.
 *
 * Guarantee: **at-least-once**. On every checkpoint barrier the writer waits until the broker has
 * confirmed every message published so far (publisher confirms), so a completed checkpoint never
 * covers a message the broker may not have. Messages are published `mandatory` by default: one that no
 * queue takes comes back (basic.return) and fails the job with ConnectorError 'ERR_UNROUTABLE', or —
 * with `onUnroutable: 'dead-letter'` — is published to `deadLetterExchange` with the reason in the
 * `x-sluice-unroutable` header; it is never dropped in silence. A nack fails the job
 * ('ERR_PUBLISH_NACKED'); the restart replays from the checkpoint.
 *
 * Backpressure: `ready()` holds the job while `maxInFlight` messages are unconfirmed, while the
 * channel's write buffer is full, while the broker blocks the connection (resource alarm), and while
 * reconnecting. A lost connection is reopened with a doubling delay and the unconfirmed messages are
 * published again on it (a message may then arrive twice); after `maxRetries` failed attempts the
 * writer fails with ConnectorError 'ERR_CONNECT'.
 *
 * @example
 * stream.sinkTo(new RabbitMQSink<Order>({ exchange: 'orders', routingKey: (o) => o.region,
 *   properties: (o) => ({ correlationId: o.id, contentType: 'application/json' }) }))
 */
export class RabbitMQSink<T> implements Sink<T> {
  readonly name = 'rabbitmq'
  readonly guarantee = 'at-least-once' as const
  readonly settings: SinkSettings<T>

  constructor(options: RabbitMQSinkOptions<T>) {
    amqplib.check('rabbitmqSink')
    this.settings = sinkSettings(options)
  }

  /**
   * The writer of one subtask; it starts connecting at once.
   *
   * @example
   * const writer = sink.createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createWriter(context: SinkWriterContext): RabbitMQSinkWriter<T> {
    return new RabbitMQSinkWriter(this.settings, context)
  }
}

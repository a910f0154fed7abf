import { stompPackages } from './connection.js'
import { ActiveMQSinkWriter } from './writer.js'
import type { Sink, SinkWriterContext } from '../../runtime/sink.js'
import { type ActiveMQSinkOptions, type ActiveMQSinkSettings, activemqSinkSettings } from './options.js'

/**
 * Sends every record to an ActiveMQ queue or topic over STOMP (Bahir's AMQSink), as a persistent
 * message (option `persistent`, default true) with a `receipt` header: ActiveMQ answers with a RECEIPT once it has
 * stored the message.
 *
 * Guarantee: **at-least-once**. On every checkpoint barrier the writer waits for the receipts of every
 * message sent so far, so a completed checkpoint never covers a message the broker may not have.
 * `ready()` holds the job while `maxInFlight` messages wait for receipts and while reconnecting. A lost
 * connection is reopened with a doubling delay and the unreceipted messages are sent again (a message
 * may then arrive twice); after `retry.maxRetries` failed attempts the writer fails with ConnectorError
 * 'ERR_CONNECT'.
 *
 * @example
 * stream.sinkTo(new ActiveMQSink<Order>({ destination: '/queue/orders', headers: (o) => ({ 'correlation-id': o.id }) }))
 */
export class ActiveMQSink<T> implements Sink<T> {
  readonly name = 'activemq'
  readonly guarantee = 'at-least-once' as const
  readonly settings: ActiveMQSinkSettings<T>

  constructor(options: ActiveMQSinkOptions<T>) {
    for (const p of stompPackages) p.check('activemqSink')
    this.settings = activemqSinkSettings(options)
  }

  /**
   * The writer of one subtask; it starts connecting at once.
   *
   * @example
   * const writer = sink.createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createWriter(context: SinkWriterContext): ActiveMQSinkWriter<T> {
    return new ActiveMQSinkWriter(this.settings, context)
  }
}

/**
 * The job of the RabbitMQ SIGKILL tests (spec/connectors/rabbitmq/process-kill.spec.ts), run as its own
 * process: spec/support/queue-kill-job.ts describes its arguments and what it prints.
 *
 *   node --import tsx spec/connectors/rabbitmq/kill-job.ts '<args json>' <work dir>
 */
import { type RabbitMQMessage, RabbitMQSink, RabbitMQSource } from '../../../lib/connectors/rabbitmq/index.js'
import { AMQP_URL } from '../../support/amqp-broker.js'
import { runQueueKillJob } from '../../support/queue-kill-job.js'

await runQueueKillJob<RabbitMQMessage>('spec/connectors/rabbitmq/kill-job.ts', {
  name: 'rabbit',
  source: (queue, guarantee) => new RabbitMQSource({ url: AMQP_URL, queue, prefetch: 500, guarantee }),
  sink: (queue) => new RabbitMQSink<string>({ url: AMQP_URL, exchange: '', routingKey: queue }),
  text: (m) => m.content.toString(),
})

/**
 * The job of the ActiveMQ SIGKILL tests (spec/connectors/activemq/process-kill.spec.ts), run as its own
 * process, over STOMP: spec/support/queue-kill-job.ts describes its arguments and what it prints.
 *
 *   node --import tsx spec/connectors/activemq/kill-job.ts '<args json>' <work dir>
 */
import { type ActiveMQMessage, ActiveMQSink, ActiveMQSource } from '../../../lib/connectors/activemq/index.js'
import { runQueueKillJob } from '../../support/queue-kill-job.js'
import { STOMP_HOST, STOMP_PORT } from '../../support/stomp-broker.js'

await runQueueKillJob<ActiveMQMessage>('spec/connectors/activemq/kill-job.ts', {
  name: 'activemq',
  source: (destination, guarantee) =>
    new ActiveMQSource({ host: STOMP_HOST, port: STOMP_PORT, destination, prefetch: 200, guarantee }),
  sink: (destination) => new ActiveMQSink<string>({ host: STOMP_HOST, port: STOMP_PORT, destination }),
  text: (m) => m.body.toString(),
})

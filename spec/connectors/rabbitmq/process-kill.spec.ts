import { AmqpAdmin, uniqueName } from '../../support/amqp-broker.js'
import { queueKillSuite } from '../../support/queue-kill-suite.js'

// SIGKILL mid-stream against the machine's RabbitMQ broker (spec/support/queue-kill-suite.ts): the
// exactly-once source recognises redeliveries by their correlation id.
queueKillSuite('rabbitmq', 'spec/connectors/rabbitmq/kill-job.ts', async () => {
  const admin = await AmqpAdmin.open()
  return {
    queue: (label) => admin.queue(uniqueName(label)),
    publish: (queue, count) => admin.publish(queue, count, { properties: (i) => ({ correlationId: `c${i}` }) }),
    drain: async (queue) => (await admin.drainAll(queue)).map((m) => m.content.toString()),
    close: () => admin.close(),
  }
})

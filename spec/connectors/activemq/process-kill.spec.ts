import { queueKillSuite } from '../../support/queue-kill-suite.js'
import { StompAdmin, uniqueDestination } from '../../support/stomp-broker.js'

// SIGKILL mid-stream against the machine's ActiveMQ broker over STOMP (spec/support/queue-kill-suite.ts):
// the exactly-once source recognises redeliveries by their message id.
queueKillSuite('activemq', 'spec/connectors/activemq/kill-job.ts', async () => {
  const admin = await StompAdmin.open()
  return {
    queue: async (label) => uniqueDestination('queue', label),
    publish: (destination, count) => admin.publish(destination, count),
    drain: async (destination) => (await admin.drain(destination)).map((m) => m.body),
    close: async () => {
      await admin.cleanup()
      await admin.close()
    },
  }
})

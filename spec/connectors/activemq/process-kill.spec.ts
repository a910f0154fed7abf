import { queueKillSuite } from '../../support/queue-kill-suite.js'
import { StompAdmin, uniqueDestination } from '../../support/stomp-broker.js'

// SIGKILL mid-stream against the machine's ActiveMQ broker over STOMP (spec/support/queue-kill-suite.ts):
// the exactly-once source recognises redeliveries by their message id.
queueKillSuite('activemq', 'spec/connectors/activemq/kill-job.ts', async () => {
  const admin = await StompAdmin.open()
  return {
    queue: async (label) => uniqueDestination('queue', label),
    publish: (destination, count) => admin.publish(destination, count),
    // STOMP cannot count a queue: the expected messages, then whatever follows them (duplicates) until a pause
    drain: async (destination, expected) => {
      const first = expected > 0 ? await admin.drain(destination, expected) : []
      return [...first, ...(await admin.drain(destination))].map((m) => m.body)
    },
    close: async () => {
      await admin.cleanup()
      await admin.close()
    },
  }
})

// Runs a JVM server of servers/ by hand, with the launcher the tests use:
//   node --import tsx servers/run.ts kafka [--nodes 3] [--topic orders:3 …] [--check]
//   node --import tsx servers/run.ts flume [--check]
//   node --import tsx servers/run.ts hdfs [--check]
//   node --import tsx servers/run.ts cassandra [--check]
// It prints the addresses and runs until Ctrl-C (SIGINT/SIGTERM stop it and remove its data). With
// --check it starts the server, prints how long that took, and stops it again (scripts/services.d).
import { parseArgs } from 'node:util'
import { startCassandra } from '../spec/support/cassandra-server.js'
import { startFlumeAgent } from '../spec/support/flume-agent.js'
import { startHdfs } from '../spec/support/hdfs-server.js'
import { startKafka } from '../spec/support/kafka-server.js'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    nodes: { type: 'string', default: '1' },
    topic: { type: 'string', multiple: true, default: [] },
    check: { type: 'boolean', default: false },
  },
})

const servers: Record<string, () => Promise<{ addresses: string; stop(): Promise<void> }>> = {
  kafka: async () => {
    const topics = Object.fromEntries(
      values.topic.map((spec) => {
        const [name, partitions = '1'] = spec.split(':')
        return [name!, Number(partitions)]
      }),
    )
    const kafka = await startKafka({ nodes: Number(values.nodes), topics })
    return { addresses: `bootstrap ${kafka.brokers.join(',')}`, stop: kafka.stop }
  },
  flume: async () => {
    const agent = await startFlumeAgent()
    return { addresses: `avro ${agent.avro}, http ${agent.http}`, stop: agent.stop }
  },
  hdfs: async () => {
    const hdfs = await startHdfs()
    return { addresses: `webhdfs ${hdfs.webHdfsUrl}, rpc ${hdfs.nameNodeUrl}, user ${hdfs.superuser}`, stop: hdfs.stop }
  },
  cassandra: async () => {
    const cassandra = await startCassandra()
    return { addresses: `CQL ${cassandra.contactPoint} (${cassandra.dataCenter})`, stop: cassandra.stop }
  },
}

const name = positionals[0] ?? ''
const start = servers[name]
if (start === undefined) {
  console.error(
    `usage: servers/run.ts <${Object.keys(servers).join('|')}> [--nodes N] [--topic name:partitions] [--check]`,
  )
  process.exit(2)
}
const began = performance.now()
const server = await start()
console.log(`${name}: ${server.addresses} (started in ${((performance.now() - began) / 1000).toFixed(1)} s)`)
if (values.check) {
  await server.stop()
} else {
  const stop = (): void => {
    void server.stop().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

import { randomBytes } from 'node:crypto'
import cassandra from 'cassandra-driver'
import type { DeadLetter } from '../../../lib/runtime/output-tag.js'
import type { SinkWriterContext } from '../../../lib/runtime/sink.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import type { CassandraServer } from '../../support/cassandra-server.js'
import { passValue } from '../../support/worker-pass/pass-context.js'

/** A driver client of the test's own, to create tables and read back what the sink wrote. */
export async function testClient(server: CassandraServer): Promise<cassandra.Client> {
  const client = new cassandra.Client({ contactPoints: [server.contactPoint], localDataCenter: server.dataCenter })
  await client.connect()
  return client
}

/** A fresh keyspace name (the coordinator's in a replaying worker of the worker-executor test pass). */
export function keyspaceName(prefix: string): string {
  return passValue(() => `${prefix}_${randomBytes(4).toString('hex')}`)
}

/** Creates a keyspace with one replica. */
export async function createKeyspace(client: cassandra.Client, keyspace: string): Promise<void> {
  await client.execute(
    `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
  )
}

/** A writer context, with the dead letters it receives. */
export function writerContext(subtask = 0, parallelism = 1): SinkWriterContext & { letters: DeadLetter[] } {
  const letters: DeadLetter[] = []
  return { subtask, parallelism, processingTime: systemProcessingTime, letters, deadLetter: (l) => letters.push(l) }
}

import type { Client } from 'cassandra-driver'
import { ConnectorError, messageOf } from '../../errors.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { optionalDependency } from '../../util/optional-dependency.js'
import { Deferred } from '../../util/deferred.js'
import { ReconnectLoop } from '../base/reconnect-loop.js'
import type { CassandraSinkSettings } from './options.js'

/** cassandra-driver, loaded lazily: an optional peer dependency. */
export const cassandraDriver = await optionalDependency<typeof import('cassandra-driver')>('cassandra-driver')

/** A connected client and what the sink read of the schema. */
export interface CassandraSession {
  readonly client: Client
  /** Table mode: the columns written, in order, and the partition key columns. */
  readonly columns: readonly string[]
  readonly partitionKeyColumns: readonly string[]
}

/**
 * Opens a client through a {@link ReconnectLoop}: the driver's own `connect()` is retried with the
 * connection backoff, and after `maxRetries` the sink fails with ConnectorError 'ERR_CONNECT' naming the
 * contact points (never the credentials). Once connected, the driver keeps its pool connected itself.
 * In table mode the table's columns are read from the schema; a missing table fails at once.
 *
 * @example
 * const open = openCassandra(settings, processingTime)
 * const session = await open.session
 */
export function openCassandra<T>(
  settings: CassandraSinkSettings<T>,
  processingTime: ProcessingTimeService,
): { readonly session: Promise<CassandraSession>; close(): void } {
  const driver = cassandraDriver.get('cassandraSink')
  const session = new Deferred<CassandraSession>()
  session.promise.catch(() => {})
  const loop = new ReconnectLoop<CassandraSession>(
    settings.retry,
    processingTime,
    settings.endpoint,
    async () => {
      const client = new driver.Client({
        contactPoints: [...settings.contactPoints],
        localDataCenter: settings.localDataCenter,
        ...(settings.credentials === undefined
          ? {}
          : {
              authProvider: new driver.auth.PlainTextAuthProvider(
                settings.credentials.username,
                settings.credentials.password,
              ),
            }),
        ...(settings.tls === undefined ? {} : { sslOptions: { ...settings.tls } }),
        socketOptions: { connectTimeout: settings.retry.connectTimeoutMs, readTimeout: settings.requestTimeoutMs },
        policies: {
          // One attempt per contact point, then the ReconnectLoop's backoff decides.
          reconnection: new driver.policies.reconnection.ConstantReconnectionPolicy(1_000),
          // The sink's `onFailure`/`retry` is the only retry of a failed write: the driver's default
          // policy would also resend an unavailable write once, uncounted and without backoff.
          retry: new driver.policies.retry.FallthroughRetryPolicy(),
        },
      })
      try {
        await client.connect()
        return { client, ...(await describeTable(client, settings)) }
      } catch (error) {
        void client.shutdown().catch(() => {})
        throw error instanceof driver.errors.NoHostAvailableError ? new Error(describeNoHost(error)) : error
      }
    },
    {
      connected: (s) => session.resolve(s),
      failed: (error) => session.reject(error),
      discard: (s) => void s.client.shutdown().catch(() => {}),
    },
  )
  loop.start()
  return { session: session.promise, close: () => loop.close() }
}

/**
 * The driver's "no host available" as one line: each host tried with its error's message. The driver's
 * own message embeds each inner error whole, stack trace included.
 *
 * @example
 * describeNoHost(error) // 'no host answered: 127.0.0.1:9042: self-signed certificate'
 */
function describeNoHost(error: { readonly innerErrors?: Readonly<Record<string, unknown>> }): string {
  const hosts = Object.entries(error.innerErrors ?? {}).map(([host, inner]) => `${host}: ${messageOf(inner)}`)
  return `no host answered: ${hosts.length === 0 ? 'no host to try' : hosts.join('; ')}`
}

async function describeTable<T>(
  client: Client,
  settings: CassandraSinkSettings<T>,
): Promise<{ columns: string[]; partitionKeyColumns: string[] }> {
  const { table } = settings
  if (table === undefined) return { columns: [], partitionKeyColumns: [] }
  const metadata = await client.metadata.getTable(table.keyspace, table.table)
  if (metadata === null || metadata === undefined)
    throw new ConnectorError(
      'ERR_NO_TABLE',
      `${settings.endpoint}: table ${table.keyspace}.${table.table} does not exist`,
      {
        retriable: false,
      },
    )
  const all = metadata.columns.map((c) => c.name)
  for (const column of table.columns ?? [])
    if (!all.includes(column))
      throw new ConnectorError(
        'ERR_NO_COLUMN',
        `${settings.endpoint}: table ${table.keyspace}.${table.table} has no column ${column}`,
        { retriable: false },
      )
  return { columns: [...(table.columns ?? all)], partitionKeyColumns: metadata.partitionKeys.map((c) => c.name) }
}

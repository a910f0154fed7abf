import type { ConnectionOptions } from 'node:tls'
import { ConfigError } from '../../errors.js'
import {
  booleanOption,
  functionOption,
  nonEmptyString,
  oneOf,
  optionKeys,
  optionsObject,
  wholeNumber,
} from '../../util/options.js'
import { type ClientTls, clientTlsSettings } from '../base/client-tls.js'
import {
  CONNECTION_RETRY_OPTIONS,
  type ConnectionRetryOptions,
  type RetryOptions,
  type RetrySchedule,
  type RetrySettings,
  connectionRetry,
  retrySchedule,
} from '../base/retry-options.js'

/** A CQL statement and the values bound to its `?` markers, in order. */
export interface CassandraStatement {
  readonly query: string
  readonly params: readonly unknown[]
}

/** An object written to a table: one column per field, by the field's name. */
export interface CassandraTableMapping {
  readonly keyspace: string
  readonly table: string
  /** The columns written, in order; default: every column of the table (read from the schema on connect). */
  readonly columns?: readonly string[]
}

/** Consistency levels by their CQL name. */
export type CassandraConsistency =
  | 'any'
  | 'one'
  | 'two'
  | 'three'
  | 'quorum'
  | 'all'
  | 'localQuorum'
  | 'eachQuorum'
  | 'localOne'

/** What happens to a record whose write failed. */
export type CassandraFailureHandler = 'fail' | 'retry' | 'ignore' | 'dead-letter'

/** Options of {@link CassandraSink}. */
export interface CassandraSinkOptions<T> extends ConnectionRetryOptions {
  /** `host` or `host:port` of the nodes to contact first; default ['127.0.0.1:9042']. */
  contactPoints?: readonly string[]
  /** The data center the driver sends requests to; default 'datacenter1'. */
  localDataCenter?: string
  /** Plain-text credentials; never printed. */
  credentials?: { readonly username: string; readonly password: string }
  /**
   * TLS to the nodes (client_encryption_options): a private CA, a client certificate. Unlike the
   * driver's own default, a certificate the CAs do not vouch for is refused unless `rejectUnauthorized` is false.
   */
  tls?: ClientTls
  /** A request the node has not answered after this long fails (a timeout, retried by `onFailure: 'retry'`); default 12,000 ms. */
  requestTimeoutMs?: number
  /** One of `statement` and `table`: the CQL statement and bound values of a record (prepared once). */
  statement?: (value: T) => CassandraStatement
  /** One of `statement` and `table`: an object record written to a table (an INSERT prepared once). */
  table?: CassandraTableMapping
  /**
   * Null and undefined fields are sent as *unset* (the column is left as it is, no tombstone), not as
   * null (a tombstone); default false.
   */
  ignoreNullFields?: boolean
  /** Requests in flight at once (Flink's setMaxConcurrentRequests); default 64. */
  maxConcurrentRequests?: number
  /** A record waiting this long for a free request slot fails the job ('ERR_TIMEOUT'); default 30,000 ms. */
  maxConcurrentRequestsTimeoutMs?: number
  /**
   * Unlogged batches of records with the same partition key, up to `batchSize` statements each; default
   * 1 (no batches). `partitionKey` says the key of a record; in table mode it defaults to the table's.
   */
  batchSize?: number
  /** The partition key of a record, for batches (any value compared by its JSON text). */
  partitionKey?: (value: T) => unknown
  /** Consistency of every write; default 'localQuorum'. */
  consistency?: CassandraConsistency
  /** Serial consistency of conditional writes (IF …); default 'localSerial'. */
  serialConsistency?: 'serial' | 'localSerial'
  /** Writes carry the record's event time (milliseconds) as their write time (USING TIMESTAMP); default false. */
  eventTimeWriteTimestamp?: boolean
  /**
   * A failed write: 'fail' the job (default); 'retry' timeouts, overloaded and unavailable nodes with
   * `writeRetry`'s backoff (other errors, and retries used up, fail the job); 'ignore' it (logged and
   * counted); send the record to the 'dead-letter' output with the reason.
   */
  onFailure?: CassandraFailureHandler
  /**
   * Retries of a failed write with `onFailure: 'retry'`, in the shape of `retry`; default
   * { maxRetries: 4, initialDelayMs: 100, maxDelayMs: 5,000 } (five attempts in all).
   */
  writeRetry?: RetryOptions
  /**
   * 'at-least-once' (default): a barrier waits for every write before it. 'exactly-once': a
   * write-ahead log — records are kept in the checkpoint and written when it completes; `committer`
   * records which checkpoints were written.
   */
  guarantee?: 'at-least-once' | 'exactly-once'
  /** Exactly-once: this sink's id in the committer table (stable across restarts); required then. */
  sinkId?: string
  /** Exactly-once: where the committer rows live; default keyspace of `table`, table 'sluice_checkpoints'. */
  committer?: { readonly keyspace?: string; readonly table?: string; readonly ttlSeconds?: number }
}

/** The sink's settings after validation. */
export interface CassandraSinkSettings<T> {
  readonly contactPoints: readonly string[]
  readonly localDataCenter: string
  readonly credentials: { readonly username: string; readonly password: string } | undefined
  readonly tls: ConnectionOptions | undefined
  readonly requestTimeoutMs: number
  readonly statement: ((value: T) => CassandraStatement) | undefined
  readonly table: CassandraTableMapping | undefined
  readonly ignoreNullFields: boolean
  readonly maxConcurrentRequests: number
  readonly maxConcurrentRequestsTimeoutMs: number
  readonly batchSize: number
  readonly partitionKey: ((value: T) => unknown) | undefined
  readonly consistency: CassandraConsistency
  readonly serialConsistency: 'serial' | 'localSerial'
  readonly eventTimeWriteTimestamp: boolean
  readonly onFailure: CassandraFailureHandler
  readonly writeRetry: RetrySchedule
  readonly guarantee: 'at-least-once' | 'exactly-once'
  readonly sinkId: string
  readonly committer: { readonly keyspace: string; readonly table: string; readonly ttlSeconds: number }
  readonly retry: RetrySettings
  /** Said in errors and logs: 'cassandraSink 127.0.0.1:9042' (never credentials). */
  readonly endpoint: string
}

const SINK_OPTIONS = optionKeys<CassandraSinkOptions<unknown>>({
  ...CONNECTION_RETRY_OPTIONS,
  contactPoints: true,
  localDataCenter: true,
  credentials: true,
  tls: true,
  requestTimeoutMs: true,
  statement: true,
  table: true,
  ignoreNullFields: true,
  maxConcurrentRequests: true,
  maxConcurrentRequestsTimeoutMs: true,
  batchSize: true,
  partitionKey: true,
  consistency: true,
  serialConsistency: true,
  eventTimeWriteTimestamp: true,
  onFailure: true,
  writeRetry: true,
  guarantee: true,
  sinkId: true,
  committer: true,
})

const CONSISTENCIES: readonly CassandraConsistency[] = [
  'any',
  'one',
  'two',
  'three',
  'quorum',
  'all',
  'localQuorum',
  'eachQuorum',
  'localOne',
]

/** A CQL identifier written as is: letters, digits and underscores. */
function identifier(path: string, value: unknown, fallback?: string): string {
  const name = nonEmptyString(path, value, fallback)
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConfigError(path, value, 'a CQL name: letters, digits, _')
  return name
}

/**
 * Validates the sink's options and applies the defaults.
 *
 * @example
 * cassandraSinkSettings({ table: { keyspace: 'shop', table: 'orders' } }).maxConcurrentRequests // 64
 */
export function cassandraSinkSettings<T>(options: CassandraSinkOptions<T>): CassandraSinkSettings<T> {
  const o = optionsObject('cassandraSink', options, SINK_OPTIONS)
  const contactPoints = o.contactPoints ?? ['127.0.0.1:9042']
  if (!Array.isArray(contactPoints) || contactPoints.length === 0)
    throw new ConfigError('cassandraSink.contactPoints', contactPoints, 'a non-empty array of host or host:port')
  for (const [i, point] of contactPoints.entries()) nonEmptyString(`cassandraSink.contactPoints[${i}]`, point)
  let credentials: CassandraSinkSettings<T>['credentials']
  if (o.credentials !== undefined) {
    const c = optionsObject('cassandraSink.credentials', o.credentials, ['username', 'password'])
    credentials = {
      username: nonEmptyString('cassandraSink.credentials.username', c.username),
      password: nonEmptyString('cassandraSink.credentials.password', c.password),
    }
  }
  if ((o.statement === undefined) === (o.table === undefined))
    throw new ConfigError('cassandraSink.statement', o.statement, 'exactly one of statement and table')
  const statement =
    o.statement === undefined
      ? undefined
      : functionOption<(value: T) => CassandraStatement>('cassandraSink.statement', o.statement)
  let table: CassandraTableMapping | undefined
  if (o.table !== undefined) {
    const t = optionsObject('cassandraSink.table', o.table, ['keyspace', 'table', 'columns'])
    const columns = t.columns
    if (columns !== undefined && (!Array.isArray(columns) || columns.length === 0))
      throw new ConfigError('cassandraSink.table.columns', columns, 'a non-empty array of column names')
    table = Object.freeze({
      keyspace: identifier('cassandraSink.table.keyspace', t.keyspace),
      table: identifier('cassandraSink.table.table', t.table),
      columns: columns?.map((c, i) => identifier(`cassandraSink.table.columns[${i}]`, c)),
    })
  }
  if (o.statement !== undefined && (o.batchSize ?? 1) > 1 && o.partitionKey === undefined)
    throw new ConfigError(
      'cassandraSink.partitionKey',
      o.partitionKey,
      'a function (batches of statements group by it)',
    )
  const guarantee = oneOf('cassandraSink.guarantee', o.guarantee, ['at-least-once', 'exactly-once'], 'at-least-once')
  const c = optionsObject('cassandraSink.committer', o.committer, ['keyspace', 'table', 'ttlSeconds'])
  const committerKeyspace = c.keyspace ?? table?.keyspace
  if (guarantee === 'exactly-once' && committerKeyspace === undefined)
    throw new ConfigError('cassandraSink.committer.keyspace', c.keyspace, 'a keyspace (the sink writes statements)')
  const sinkId =
    guarantee === 'exactly-once' ? nonEmptyString('cassandraSink.sinkId', o.sinkId) : (o.sinkId ?? 'cassandra')
  // Before writeRetry, `retry` held the write retries with `maxAttempts`: say where they went.
  const oldRetry = o.retry as Record<string, unknown> | undefined
  if (oldRetry !== null && typeof oldRetry === 'object' && oldRetry.maxAttempts !== undefined)
    throw new ConfigError(
      'cassandraSink.retry.maxAttempts',
      oldRetry.maxAttempts,
      'no such option; write retries are cassandraSink.writeRetry (maxRetries = maxAttempts − 1), cassandraSink.retry is the connection retry',
    )
  return Object.freeze({
    contactPoints: Object.freeze([...contactPoints]),
    localDataCenter: nonEmptyString('cassandraSink.localDataCenter', o.localDataCenter, 'datacenter1'),
    credentials,
    tls: o.tls === undefined ? undefined : clientTlsSettings('cassandraSink.tls', o.tls),
    requestTimeoutMs: wholeNumber('cassandraSink.requestTimeoutMs', o.requestTimeoutMs, 12_000, 1),
    statement,
    table,
    ignoreNullFields: booleanOption('cassandraSink.ignoreNullFields', o.ignoreNullFields, false),
    maxConcurrentRequests: wholeNumber('cassandraSink.maxConcurrentRequests', o.maxConcurrentRequests, 64, 1, 10_000),
    maxConcurrentRequestsTimeoutMs: wholeNumber(
      'cassandraSink.maxConcurrentRequestsTimeoutMs',
      o.maxConcurrentRequestsTimeoutMs,
      30_000,
      1,
    ),
    batchSize: wholeNumber('cassandraSink.batchSize', o.batchSize, 1, 1, 65_535),
    partitionKey:
      o.partitionKey === undefined
        ? undefined
        : functionOption<(value: T) => unknown>('cassandraSink.partitionKey', o.partitionKey),
    consistency: oneOf('cassandraSink.consistency', o.consistency, CONSISTENCIES, 'localQuorum'),
    serialConsistency: oneOf(
      'cassandraSink.serialConsistency',
      o.serialConsistency,
      ['serial', 'localSerial'],
      'localSerial',
    ),
    eventTimeWriteTimestamp: booleanOption('cassandraSink.eventTimeWriteTimestamp', o.eventTimeWriteTimestamp, false),
    onFailure: oneOf('cassandraSink.onFailure', o.onFailure, ['fail', 'retry', 'ignore', 'dead-letter'], 'fail'),
    writeRetry: Object.freeze(
      retrySchedule('cassandraSink.writeRetry', o.writeRetry, {
        maxRetries: 4,
        initialDelayMs: 100,
        maxDelayMs: 5_000,
      }),
    ),
    guarantee,
    sinkId,
    committer: Object.freeze({
      keyspace:
        committerKeyspace === undefined ? '' : identifier('cassandraSink.committer.keyspace', committerKeyspace),
      table: identifier('cassandraSink.committer.table', c.table, 'sluice_checkpoints'),
      ttlSeconds: wholeNumber('cassandraSink.committer.ttlSeconds', c.ttlSeconds, 7 * 24 * 3600, 1),
    }),
    retry: connectionRetry('cassandraSink', o),
    endpoint: `cassandraSink ${contactPoints.join(',')}`,
  })
}

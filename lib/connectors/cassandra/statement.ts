import type { CassandraSinkSettings, CassandraStatement } from './options.js'
import type { CassandraSession } from './connection.js'

/** One record ready to go: its statement, the partition it writes (for batches) and its write time. */
export interface BoundRecord<T> {
  readonly value: T
  readonly statement: CassandraStatement
  /** The partition key's JSON text when batching, else ''. */
  readonly partition: string
  /** Microseconds since the epoch (USING TIMESTAMP), or undefined for the node's clock. */
  readonly writeTime: number | undefined
}

/**
 * Turns records into statements: the user's `statement(value)`, or in table mode one INSERT prepared
 * once (`INSERT INTO ks.t (c1, …) VALUES (?, …)`) bound to the record's fields by name. Null and
 * undefined fields become `unset` with `ignoreNullFields` (no tombstone), null otherwise.
 *
 * @example
 * const binder = new StatementBinder(settings, session, driver.types.unset)
 * binder.bind({ id: 1, name: null }, eventTime) // { statement: { query: 'INSERT …', params: [1, unset] }, … }
 */
export class StatementBinder<T> {
  private readonly insert: string | undefined

  constructor(
    private readonly settings: CassandraSinkSettings<T>,
    private readonly session: CassandraSession,
    private readonly unset: unknown,
  ) {
    const { table } = settings
    if (table !== undefined) {
      const columns = session.columns
      this.insert = `INSERT INTO ${table.keyspace}.${table.table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`
    }
  }

  /** The record's statement; throws what the user's function throws. */
  bind(value: T, timestamp: number | undefined): BoundRecord<T> {
    const { settings } = this
    let statement: CassandraStatement
    if (this.insert !== undefined) {
      const row = value as Record<string, unknown>
      statement = { query: this.insert, params: this.session.columns.map((c) => this.field(row[c])) }
    } else {
      const made = settings.statement!(value)
      statement = settings.ignoreNullFields
        ? { query: made.query, params: made.params.map((p) => this.field(p)) }
        : made
    }
    const writeTime =
      settings.eventTimeWriteTimestamp && timestamp !== undefined ? Math.round(timestamp * 1000) : undefined
    return { value, statement, partition: settings.batchSize > 1 ? this.partitionOf(value) : '', writeTime }
  }

  private field(value: unknown): unknown {
    if (value === null || value === undefined) return this.settings.ignoreNullFields ? this.unset : null
    return value
  }

  private partitionOf(value: T): string {
    const { partitionKey } = this.settings
    if (partitionKey !== undefined) return JSON.stringify(partitionKey(value)) ?? ''
    const row = value as Record<string, unknown>
    return JSON.stringify(this.session.partitionKeyColumns.map((c) => row[c] ?? null))
  }
}

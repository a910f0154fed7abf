import type { CassandraSinkOptions } from './options.js'
import { CassandraSink } from './sink.js'

export type { ClientTls } from '../base/client-tls.js'
export { CassandraCommitter, type CommitterKey } from './committer.js'
export type {
  CassandraConsistency,
  CassandraFailureHandler,
  CassandraSinkOptions,
  CassandraStatement,
  CassandraTableMapping,
} from './options.js'
export { CassandraSink } from './sink.js'
export { CassandraSinkWriter } from './writer.js'
export { isTransient } from './write-requests.js'

/**
 * A Cassandra sink.
 *
 * @example
 * stream.sinkTo(cassandraSink<Click>({ statement: (c) => ({
 *   query: 'UPDATE stats.clicks SET last = ? WHERE page = ?', params: [c.at, c.page] }) }))
 */
export function cassandraSink<T>(options: CassandraSinkOptions<T>): CassandraSink<T> {
  return new CassandraSink(options)
}

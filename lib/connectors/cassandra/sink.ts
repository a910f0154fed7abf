import type { Sink, SinkWriterContext } from '../../runtime/sink.js'
import { cassandraDriver } from './connection.js'
import { type CassandraSinkOptions, type CassandraSinkSettings, cassandraSinkSettings } from './options.js'
import { CassandraSinkWriter } from './writer.js'

/**
 * Writes records to Apache Cassandra (Flink's CassandraSink): a CQL statement with bound values per
 * record, or objects mapped to a table's columns; prepared once, at most `maxConcurrentRequests`
 * requests in flight, optionally unlogged batches per partition.
 *
 * Guarantee: **at-least-once** by default — a barrier waits until every write before it succeeded;
 * idempotent statements (plain INSERT/UPDATE of the same values) make the replays after a restore
 * harmless. **exactly-once** with `guarantee: 'exactly-once'`: a write-ahead log (Flink's
 * CassandraTupleWriteAheadSink) keeps each checkpoint's records in the checkpoint and writes them when
 * it completes; a committer table records per sink, subtask and writer the last checkpoint written, so
 * a restore neither skips nor repeats a checkpoint (a process killed in the middle of writing one
 * checkpoint repeats that checkpoint's statements: use idempotent ones).
 *
 * @example
 * stream.sinkTo(new CassandraSink<Order>({ contactPoints: ['127.0.0.1:9042'],
 *   table: { keyspace: 'shop', table: 'orders' }, ignoreNullFields: true }))
 */
export class CassandraSink<T> implements Sink<T> {
  readonly name = 'cassandra'
  readonly guarantee: 'at-least-once' | 'exactly-once'
  readonly settings: CassandraSinkSettings<T>

  constructor(options: CassandraSinkOptions<T>) {
    cassandraDriver.check('cassandraSink')
    this.settings = cassandraSinkSettings(options)
    this.guarantee = this.settings.guarantee
  }

  /**
   * The writer of one subtask; it starts connecting at once (and, restored, writes the checkpoints the
   * committer does not list as written).
   *
   * @example
   * const writer = sink.createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createWriter(context: SinkWriterContext, restored?: readonly unknown[]): CassandraSinkWriter<T> {
    return new CassandraSinkWriter(this.settings, context, restored)
  }
}

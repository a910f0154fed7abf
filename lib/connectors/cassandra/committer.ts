import type { Client } from 'cassandra-driver'
import type { CassandraSinkSettings } from './options.js'

/** Who wrote a checkpoint: the sink, the subtask and the writer (one per run of the subtask). */
export interface CommitterKey {
  readonly subtask: number
  readonly writerId: string
}

/**
 * The write-ahead log's committer table (Flink's CassandraCommitter): one row per sink id, subtask and
 * writer (a writer is one run of a subtask) holding the last checkpoint whose records that writer
 * wrote, so that a restore writes exactly the checkpoints not yet written. Rows carry a TTL
 * (`committer.ttlSeconds`) and a restored writer deletes the rows of the writers it took over once a
 * checkpoint of its own has completed, so rows do not pile up as Flink's do.
 *
 * @example
 * const committer = new CassandraCommitter(settings, client)
 * await committer.create()
 * await committer.committed({ subtask: 0, writerId }, 7)
 * await committer.lastWritten({ subtask: 0, writerId }) // 7
 */
export class CassandraCommitter {
  private readonly name: string
  private readonly options = { prepare: true }

  constructor(
    private readonly settings: CassandraSinkSettings<unknown>,
    private readonly client: Client,
  ) {
    this.name = `${settings.committer.keyspace}.${settings.committer.table}`
  }

  /** Creates the table if it does not exist. */
  async create(): Promise<void> {
    await this.client.execute(
      `CREATE TABLE IF NOT EXISTS ${this.name} (sink_id text, subtask int, writer_id text, checkpoint_id bigint, PRIMARY KEY ((sink_id), subtask, writer_id))`,
    )
  }

  /** The last checkpoint `key` wrote, or 0. */
  async lastWritten(key: CommitterKey): Promise<number> {
    const result = await this.client.execute(
      `SELECT checkpoint_id FROM ${this.name} WHERE sink_id = ? AND subtask = ? AND writer_id = ?`,
      [this.settings.sinkId, key.subtask, key.writerId],
      this.options,
    )
    const value = result.first()?.get('checkpoint_id')
    return value === undefined || value === null ? 0 : Number(value)
  }

  /** Records that `key` wrote every record of checkpoint `checkpointId` (and of the ones before). */
  async committed(key: CommitterKey, checkpointId: number): Promise<void> {
    await this.client.execute(
      `INSERT INTO ${this.name} (sink_id, subtask, writer_id, checkpoint_id) VALUES (?, ?, ?, ?) USING TTL ${this.settings.committer.ttlSeconds}`,
      [this.settings.sinkId, key.subtask, key.writerId, checkpointId],
      this.options,
    )
  }

  /** Deletes the row of `key` (a writer whose checkpoints no restore can hand out again). */
  async remove(key: CommitterKey): Promise<void> {
    await this.client.execute(
      `DELETE FROM ${this.name} WHERE sink_id = ? AND subtask = ? AND writer_id = ?`,
      [this.settings.sinkId, key.subtask, key.writerId],
      this.options,
    )
  }
}

import type { SinkWriter } from '../../runtime/sink.js'
import type { SubtaskBuckets } from './subtask-buckets.js'

/**
 * The writer of one bucketing file sink subtask: the two-phase-commit writer (which sequences begin,
 * pre-commit, commit and abort over checkpoints) plus what only the file buckets know — when records
 * must wait (`ready`: the start-up scan, memory held), and the I/O to wait for on close.
 *
 * @example
 * const writer = sink.createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
 * writer.write('a', undefined); await writer.snapshotState!(1); await writer.notifyCheckpointComplete!(1)
 */
export class BucketingFileWriter<T> implements SinkWriter<T> {
  constructor(
    private readonly transactions: SinkWriter<T>,
    private readonly buckets: SubtaskBuckets<T>,
  ) {}

  /**
   * Straight into the current transaction, which is always the last one begun (the two-phase-commit
   * writer begins the next one before anything else happens). Going through the two-phase-commit
   * writer's `write` would cost an allocation per record (its `steps` getter builds a new object).
   */
  write(value: T, timestamp: number | undefined): void {
    this.buckets.write(this.buckets.current!, value, timestamp)
  }

  ready(): Promise<void> | undefined {
    const recovering = this.transactions.ready?.()
    const buckets = this.buckets.ready()
    if (recovering === undefined) return buckets
    if (buckets === undefined) return recovering
    return Promise.all([recovering, buckets]).then(() => undefined)
  }

  snapshotState(checkpointId: number): unknown[] | Promise<unknown[]> {
    return this.transactions.snapshotState!(checkpointId)
  }

  notifyCheckpointComplete(checkpointId: number): void | Promise<void> {
    return this.transactions.notifyCheckpointComplete!(checkpointId)
  }

  /** The final checkpoint's pre-commit merges and publishes every held part (compaction). */
  endInput(): void {
    this.buckets.endOfInput()
  }

  flush(endOfInput: boolean): void | Promise<void> {
    if (endOfInput) this.buckets.endOfInput()
    return this.transactions.flush?.(endOfInput)
  }

  /** Cancel, failure or after the end of input: the open transaction is aborted, pending ones are kept. */
  async close(): Promise<void> {
    try {
      await this.transactions.close()
    } finally {
      await this.buckets.close()
    }
  }
}

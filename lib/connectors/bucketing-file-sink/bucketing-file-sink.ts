import { type CommitOutcome, TwoPhaseCommitSink } from '../../checkpoint/two-phase-commit-sink.js'
import type { MessagePort } from 'node:worker_threads'
import type { SinkWriter, SinkWriterContext } from '../../runtime/sink.js'
import type { ThreadBridged } from '../../runtime/thread-bridged.js'
import {
  type BucketTransaction,
  partRefs,
  removedRefs,
  transactionFromState,
  transactionToState,
} from './bucket-transaction.js'
import { BucketingFileWriter } from './bucketing-writer.js'
import { Handover, HandoverStore } from './handover.js'
import { type BucketingFileSinkOptions, resolveBucketingOptions } from './options.js'
import { type BucketingSettings, SubtaskBuckets } from './subtask-buckets.js'
import { type TransactionState, isTransactionState } from './transaction-state.js'

/**
 * Writes records into part files under `basePath`, one directory per bucket, exactly once (Flink's
 * StreamingFileSink / FileSink with row or bulk formats; Hadoop's BucketingSink).
 *
 * Life of a part file: each subtask has, per bucket, one **in-progress** part (hidden:
 * `.part-<subtask>-<n>.inprogress.<uuid>`) taking records. It is closed — becomes **pending** — when
 * the rolling policy says so (size, age, inactivity) or at the latest on the next checkpoint barrier,
 * where every open part is flushed, fsynced and closed (the pre-commit). A pending part is renamed to its
 * **finished** name `part-<subtask>-<n>` only when the checkpoint it was pre-committed for completes
 * (the commit). A reader that skips hidden files therefore sees a record exactly once, and only once the
 * checkpoint covering it is complete.
 *
 * Why every open part rolls on each checkpoint (unlike Flink's row formats, which keep a part open
 * across checkpoints and on restore truncate it back to the checkpointed length): a part then belongs to
 * exactly one transaction, so a restore never has to truncate or resume a file, which a store without
 * truncate or append (S3) cannot do, and a gzip part is always a complete stream. On S3 (`s3Writer`) a part
 * is a multipart upload: parts of `partSizeBytes` are uploaded as it grows, the barrier uploads the tail
 * as its last part and the checkpoint keeps the upload id and the parts' etags; the commit completes it. The cost is at least
 * one part file per bucket, subtask and checkpoint interval with data: choose a checkpoint interval that
 * suits the file count you want.
 *
 * Guarantee: exactly-once with checkpointing and replayable sources. Restore: pending parts recorded in
 * the checkpoint are committed (again; commits are idempotent), the transaction open at the checkpoint
 * is aborted, and the subtask's other in-progress files — written after the checkpoint, so replayed —
 * are deleted. Part counters continue after the checkpoint's and after any part name on the store.
 * A restart without a checkpoint to restore (none completed yet) deletes the part files the failed
 * attempt left uncommitted, as the job starts again from the beginning (on the worker executor too:
 * there each writer hands what it leaves uncommitted, when it closes, to the coordinator's copy of the
 * sink, for the next attempt's writer; a worker thread that crashed hands nothing over, and its files
 * stay hidden as after a process crash). Without checkpointing, parts
 * roll by the policy and everything is committed at the end of input.
 *
 * @example
 * const env = StreamEnvironment.create({ checkpointing: { intervalMs: 10_000 } })
 * env.fromSource(events).sinkTo(new BucketingFileSink('/data/events', {
 *   encoder: jsonLines(),
 *   bucketAssigner: dateTimeBucketAssigner('yyyy-MM-dd--HH'),
 *   rollingPolicy: new DefaultRollingPolicy({ partSizeBytes: 64 << 20 }),
 *   outputFileConfig: { partSuffix: '.json' },
 * }), { uid: 'events-archive' })
 */
export class BucketingFileSink<T> extends TwoPhaseCommitSink<T, BucketTransaction> implements ThreadBridged {
  readonly name = 'bucketing-file-sink'
  readonly settings: BucketingSettings<T>
  /** The buckets of each writer, found by the context object the writer was created with. */
  private readonly subtasks = new WeakMap<SinkWriterContext, SubtaskBuckets<T>>()
  /** The latest buckets of each subtask index in this process: what a restarted writer takes over from. */
  private readonly latest = new Map<number, SubtaskBuckets<T>>()
  /** On the coordinator of the worker executor: what each subtask's writer in a worker left uncommitted. */
  private handoverStore: HandoverStore | undefined
  /** In a worker: each subtask's way to the coordinator's {@link HandoverStore}. */
  private readonly handovers = new Map<number, Handover>()

  constructor(basePath: string, options: BucketingFileSinkOptions<T> = {}) {
    super()
    this.settings = resolveBucketingOptions(basePath, options)
  }

  /** The directory the buckets are under (absolute on the local disk). */
  get basePath(): string {
    return this.settings.basePath
  }

  /**
   * The writer of one subtask; `restored` is its share of a checkpoint's writer states.
   *
   * @example
   * const writer = sink.createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime }, restored)
   */
  override createWriter(context: SinkWriterContext, restored?: readonly unknown[]): SinkWriter<T> {
    // A context object of its own, so that two writers made from one context (a test restoring in the
    // same process) never share buckets.
    const own: SinkWriterContext = {
      subtask: context.subtask,
      parallelism: context.parallelism,
      processingTime: context.processingTime,
      deadLetter: context.deadLetter,
    }
    const states = restoredStates(restored)
    const handover = this.handovers.get(context.subtask)
    const buckets = new SubtaskBuckets<T>(
      this.settings,
      own,
      states.length > 0 ? states : undefined,
      this.latest.get(context.subtask) ?? handover,
      handover === undefined ? undefined : (refs) => handover.leave(refs),
    )
    this.subtasks.set(own, buckets)
    this.latest.set(context.subtask, buckets)
    return new BucketingFileWriter<T>(super.createWriter(own, restored), buckets)
  }

  /** On the coordinator of the worker executor: keeps what the writer of `subtask` leaves for the next attempt. */
  serveBridge(subtask: number, _parallelism: number, port: MessagePort): void {
    this.handoverStore ??= new HandoverStore()
    this.handoverStore.serve(subtask, port)
  }

  /** In a worker: the writer of `subtask` takes over from, and hands over to, the coordinator's store. */
  useBridge(subtask: number, port: MessagePort): void {
    this.handovers.set(subtask, new Handover(port))
  }

  protected beginTransaction(context: SinkWriterContext): BucketTransaction {
    let buckets = this.subtasks.get(context)
    if (buckets === undefined) {
      buckets = new SubtaskBuckets<T>(this.settings, context, undefined)
      this.subtasks.set(context, buckets)
    }
    return buckets.begin()
  }

  protected write(transaction: BucketTransaction, value: T, timestamp: number | undefined): void {
    transaction.owner!.write(transaction, value, timestamp)
  }

  protected async preCommit(transaction: BucketTransaction): Promise<void> {
    await transaction.owner?.preCommit(transaction)
  }

  protected async commit(transaction: BucketTransaction): Promise<CommitOutcome> {
    const { writer, basePath, logger } = this.settings
    const refs = partRefs(transaction)
    const outcome =
      transaction.owner === undefined
        ? await writer.commitAfterRecovery(basePath, refs, logger)
        : await writer.commit(basePath, refs, logger)
    if (outcome === 'retry-later') return outcome
    // the merged files are visible now: their sources go (a repeated commit deletes nothing more)
    const removed = removedRefs(transaction)
    if (removed.length > 0) await writer.discard(basePath, removed)
    transaction.owner?.committed(transaction)
    return outcome
  }

  protected async abort(transaction: BucketTransaction): Promise<void> {
    if (transaction.owner !== undefined) await transaction.owner.abort(transaction)
    else await this.settings.writer.discard(this.settings.basePath, partRefs(transaction))
  }

  protected toState(transaction: BucketTransaction): TransactionState {
    return transactionToState(transaction, transaction.owner?.nextPartCounter ?? transaction.restored?.nextCounter ?? 0)
  }

  protected fromState(state: unknown): BucketTransaction {
    return transactionFromState(state)
  }
}

/**
 * The sink's transaction states among a subtask's restored writer states. The two-phase-commit writer
 * keeps each transaction as `{ pending: { checkpointId, transaction } }` or `{ open: transaction }`;
 * anything else is left for it to reject.
 */
function restoredStates(restored: readonly unknown[] | undefined): TransactionState[] {
  const states: TransactionState[] = []
  for (const entry of restored ?? []) {
    const e = entry as { pending?: { transaction?: unknown }; open?: unknown } | null
    const state = e?.pending?.transaction ?? e?.open
    if (isTransactionState(state)) states.push(state)
  }
  return states
}

/**
 * A {@link BucketingFileSink}: exactly-once part files under `basePath`, one directory per bucket.
 *
 * @example
 * stream.sinkTo(bucketingFileSink('/data/out', { encoder: csv({ columns: ['id', 'total'], header: true }), bucketAssigner: keyBucketAssigner((o: Order) => o.country) }))
 */
export function bucketingFileSink<T>(basePath: string, options?: BucketingFileSinkOptions<T>): BucketingFileSink<T> {
  return new BucketingFileSink<T>(basePath, options)
}

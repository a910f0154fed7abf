import type { CommitOutcome } from '../../checkpoint/two-phase-commit-sink.js'
import type { Logger } from '../../logging.js'
import type { OutputFileConfig } from './output-file-config.js'
import type { PartFileRef } from './transaction-state.js'

/**
 * An open in-progress part (Flink's RecoverableFsDataOutputStream). Writes are ordered and awaited one
 * at a time by the part that owns the stream.
 *
 * @example
 * const stream = await writer.open('/data/out', { bucket: 'a', name: 'part-0-0', inProgress: '.part-0-0.inprogress.x' })
 * await stream.write(Buffer.from('a\n')); const committable = await stream.closeForCommit()
 */
export interface RecoverableStream {
  /** Appends `data` whole. */
  write(data: Uint8Array): Promise<void>
  /** Appends `chunks` whole, in order; where absent, the caller writes them as one. */
  writev?(chunks: readonly Uint8Array[]): Promise<void>
  /** True when the stream keeps no reference to written data once the write resolved (a file; not an S3 part). */
  readonly releasesWrites?: boolean
  /** True when a write may be called before the earlier ones resolved; they land in the order called (a local file). */
  readonly overlapsWrites?: boolean
  /**
   * Makes everything written so far durable and returns the handle a checkpoint keeps to resume
   * writing here after a restore ({@link RecoverableWriter.recover}); the stream stays open.
   */
  persist(): Promise<PartFileRef>
  /** Makes the part durable and closes it; returns the handle a checkpoint keeps to commit it. */
  closeForCommit(): Promise<PartFileRef>
  /** Closes the stream without committing it (the part is dropped; its leftovers are the writer's to discard). */
  dispose(): Promise<void>
}

/** An in-progress part found on the store when a subtask starts. */
export interface FoundInProgressPart {
  readonly bucket: string
  readonly name: string
  /** What identifies it: compared with {@link RecoverableWriter.identities} of the restored parts. */
  readonly id: string
}

/** What {@link RecoverableWriter.scan} found of one subtask's parts. */
export interface PartScan {
  /** The highest counter in any part name of the subtask, finished or not; -1 when none. */
  readonly maxCounter: number
  readonly inProgress: readonly FoundInProgressPart[]
}

/**
 * The seam between the bucketing file sink and a store (Flink's RecoverableWriter plus its committer):
 * a part is opened, written, persisted into a checkpoint or closed for commit, and committed once the
 * checkpoint completes. Two implementations: {@link FileSystemRecoverableWriter} (hidden file, then a
 * rename; over any {@link FileSystem}) and `S3RecoverableWriter` (a multipart upload, completed on commit).
 *
 * Paths are relative to `basePath` (the sink's base path, or key prefix), which every call is given.
 * Commits and discards are idempotent: after a restore either may repeat one that happened.
 *
 * @example
 * bucketingFileSink('events/', { writer: s3Writer({ bucket: 'archive', region: 'eu-west-1' }) })
 */
export interface RecoverableWriter {
  /** Names the store in errors and logs ('local', 's3://bucket'). */
  readonly name: string
  /** Opens a new in-progress part named by `ref` (its bucket, final name, and hidden name). */
  open(basePath: string, ref: PartFileRef): Promise<RecoverableStream>
  /** Reopens a part from what {@link RecoverableStream.persist} returned, dropping what was written after it. */
  recover(basePath: string, resumable: PartFileRef): Promise<RecoverableStream>
  /** Makes closed parts visible under their final names (the live commit). */
  commit(basePath: string, committables: readonly PartFileRef[], log: Logger): Promise<CommitOutcome>
  /** The same for parts named by a restored checkpoint: a commit that already happened is fine. */
  commitAfterRecovery(basePath: string, committables: readonly PartFileRef[], log: Logger): Promise<CommitOutcome>
  /**
   * The bytes of a part closed for commit and not yet committed, for compaction; absent where the store
   * cannot read it back. Where the writer has {@link RecoverableWriter.openForCompaction}, only parts
   * opened with it can be read.
   */
  readonly read?: (basePath: string, committable: PartFileRef) => Promise<Uint8Array>
  /**
   * For a store whose parts closed for commit cannot be read back (a pending S3 multipart upload):
   * opens a part that compaction will read. Closed for commit it is complete but hidden (an object
   * under its in-progress name), readable with `read`, deleted by `discard`, found by `scan`, and never
   * committed itself: compaction always writes its records again into a part opened with `open`, even
   * when it is the only part of its bucket. Absent where the parts `open` makes are readable already.
   */
  readonly openForCompaction?: (basePath: string, ref: PartFileRef) => Promise<RecoverableStream>
  /** Deletes what parts that will never be committed left on the store; what is gone already is fine. */
  discard(basePath: string, refs: readonly PartFileRef[]): Promise<void>
  /** Makes the parts closed in `buckets` durable where the store needs a step for it (a directory fsync). */
  syncBuckets?(basePath: string, buckets: ReadonlySet<string>): Promise<void>
  /** Lists the subtask's parts under `basePath` (part names written with `names`). */
  scan(basePath: string, names: OutputFileConfig, subtask: number): Promise<PartScan>
  /** The ids a part named in a checkpoint has among {@link FoundInProgressPart} ids. */
  identities(ref: PartFileRef): readonly string[]
  /** Deletes in-progress parts that no checkpoint refers to. */
  deleteStale(basePath: string, found: readonly FoundInProgressPart[]): Promise<void>
}

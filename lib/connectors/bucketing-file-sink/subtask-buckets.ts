import { randomUUID } from 'node:crypto'
import { StateError, messageOf } from '../../errors.js'
import type { Logger } from '../../logging.js'
import type { SinkWriterContext } from '../../runtime/sink.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { Deferred } from '../../util/deferred.js'
import { type BucketAssigner, type BucketContext, checkBucketId } from './bucket-assigner.js'
import { type BucketTransaction, createdRefs, openTransaction } from './bucket-transaction.js'
import { ChunkPool } from './chunk-pool.js'
import type { Predecessor } from './handover.js'
import type { CompactionSettings } from './compaction/compaction-options.js'
import { PartCompactor } from './compaction/part-compactor.js'
import type { PartMerger } from './compaction/part-merger.js'
import { type BlockEncoder, type BlockWriter, isBlockEncoder } from './encoders/block-encoder.js'
import type { Encoder, PartOutput } from './encoders/encoder.js'
import type { OutputFileConfig } from './output-file-config.js'
import { type OpenedPart, PartFile, type PartFileHost } from './part-file.js'
import type { RecoverableWriter } from './recoverable-writer.js'
import type { RollingPolicy } from './rolling-policy.js'
import type { HeldPartRef, PartFileRef, TransactionState } from './transaction-state.js'

/** Chunk buffers a subtask keeps for reuse: 1 MiB at the default `writeBufferBytes`. */
const POOLED_CHUNKS = 8
/**
 * Bytes a subtask lets its files write behind its input (at least two chunks, at most `maxBufferedBytes`):
 * more does not make a disk faster, and chunks waiting long for a write are what makes V8 collect the
 * whole heap (and what the chunk pool cannot reuse). Measured on the local disk (file-sink-local):
 * 256 KiB costs less CPU and much less wall time than 1 MiB, and 4 MiB more still.
 */
const WRITE_BEHIND_BYTES = 256 * 1024

/** The sink's settled options, shared by its subtasks. */
export interface BucketingSettings<T> {
  readonly basePath: string
  /** The store: the rename-based writer over the `fileSystem` option, or the `writer` option (S3). */
  readonly writer: RecoverableWriter
  readonly encoder: Encoder<T> | BlockEncoder<T>
  readonly bucketAssigner: BucketAssigner<T>
  readonly rollingPolicy: RollingPolicy
  readonly outputFileConfig: OutputFileConfig
  readonly bucketCheckIntervalMs: number
  readonly writeBufferBytes: number
  readonly maxBufferedBytes: number
  readonly logger: Logger
  /** When compaction is on: when buckets are due, and how the encoder's parts merge. */
  readonly compaction: { readonly settings: CompactionSettings; readonly merge: PartMerger } | undefined
}

/** The assigner's context, reused for every record of a subtask. */
interface MutableBucketContext extends BucketContext {
  timestamp: number | undefined
  currentProcessingTime: number
}

/**
 * The buckets of one sink subtask (Flink's Buckets): routes each record to the in-progress part of its
 * bucket in the current transaction, rolls parts as the rolling policy says (on a record, and on a
 * periodic processing-time check), pre-commits and aborts transactions, and holds the subtask's part
 * counter.
 *
 * When it starts it lists the base path once (`RecoverableWriter.scan`): the part counter continues after
 * the highest one found, and — on a restore at unchanged parallelism — the subtask's in-progress parts
 * (hidden files, multipart uploads) that the restored checkpoint does not name are deleted: they hold records written after that
 * checkpoint, which the sources replay. After a rescale the restored transactions are dealt over the new
 * subtasks in an order this subtask cannot see, so it could delete a file another subtask is about to
 * commit: then nothing is deleted and a warning says so (the files stay hidden and are never read).
 * Until the scan is done `ready()` holds records back; records written meanwhile wait in memory.
 *
 * A restart in the same process hands over from the subtask's previous buckets (`predecessor`): they
 * are fenced first (they create no more files) and their I/O awaited. On a fresh start — no checkpoint
 * to restore, so the sources replay everything — their uncommitted part files, pending ones included,
 * can never be committed and are deleted. Files left by another process are not touched on a fresh
 * start: they may belong to a savepoint that is still to be restored. On the worker executor the
 * predecessor ran in another thread: it left its uncommitted parts with the coordinator when it closed
 * (`leave`), and the `predecessor` given is that handover (`handover.ts`).
 *
 * Memory: records are held per part until `writeBufferBytes`, and at most about `maxBufferedBytes` per
 * subtask before `ready()` asks the runtime to pause; it also pauses while more than about 256 KiB (at
 * least two chunks) is handed to the files and not yet written (a write takes every waiting chunk of
 * its part at once).
 *
 * @example
 * const buckets = new SubtaskBuckets(settings, context, restoredStates)
 * const txn = buckets.begin(); buckets.write(txn, 'a', undefined); await buckets.preCommit(txn)
 */
export class SubtaskBuckets<T> implements PartFileHost, Predecessor {
  /** The transaction records go to now; the periodic check rolls its parts. */
  current: BucketTransaction | undefined
  readonly writeBufferBytes: number
  readonly chunkPool: ChunkPool
  private nextCounter: number
  private started = false
  private readonly initialized: Promise<void>
  private bufferedBytes = 0
  /** Of those, the bytes handed to the files and not yet written, and how many may be. */
  private writingBytes = 0
  private readonly writeBehindBytes: number
  /** Made when `ready()` makes the job wait: resolved at half the write-behind, rejected at the first failure. */
  private room: Deferred | undefined
  private failure: unknown
  private cancelCheck: (() => void) | undefined
  private closed = false
  private fenced = false
  private predecessor: Predecessor | undefined
  private readonly unsettled = new Set<BucketTransaction>()
  private readonly assignerContext: MutableBucketContext = { timestamp: undefined, currentProcessingTime: 0 }
  private readonly processingTime: ProcessingTimeService
  private readonly log: Logger
  /** The encoder when it is a block encoder (records are held, not bytes), else undefined. */
  private readonly blockEncoder: BlockEncoder<T> | undefined
  /** The encoder when it is a row encoder. */
  private readonly rowEncoder: Encoder<T> | undefined
  private readonly compactor: PartCompactor | undefined
  /** The last transaction compaction ran for: the one whose held parts the next pre-commit takes over. */
  private holder: BucketTransaction | undefined
  /** Held parts restored from the checkpoint, until the first pre-commit takes them over. */
  private carried: readonly HeldPartRef[]
  /** The end of input came: every held part is merged and published on the next pre-commit. */
  private final = false
  /** The compaction of the pre-commit running now, settled once its transaction names what it merged. */
  private compacting: Promise<void> = Promise.resolve()

  constructor(
    private readonly settings: BucketingSettings<T>,
    private readonly context: SinkWriterContext,
    restored: readonly TransactionState[] | undefined,
    predecessor?: Predecessor,
    /** Where its uncommitted parts go when it closes, for the next attempt (a writer in a worker thread). */
    private readonly leave?: (refs: readonly PartFileRef[]) => Promise<void>,
  ) {
    this.predecessor = predecessor
    this.writeBufferBytes = settings.writeBufferBytes
    // a chunk is writeBufferBytes and one record; a few of them are in flight while the input runs on
    this.chunkPool = new ChunkPool(2 * settings.writeBufferBytes, POOLED_CHUNKS)
    this.writeBehindBytes = Math.min(
      settings.maxBufferedBytes,
      Math.max(2 * settings.writeBufferBytes, WRITE_BEHIND_BYTES),
    )
    this.processingTime = context.processingTime
    this.log = settings.logger.child({ sink: 'bucketing-file-sink', subtask: context.subtask })
    if (isBlockEncoder<T>(settings.encoder)) this.blockEncoder = settings.encoder
    else this.rowEncoder = settings.encoder
    // The checkpoint's counter is a floor; the scan raises it past any name already on the store.
    this.nextCounter = Math.max(
      0,
      ...(restored ?? []).filter((s) => s.subtask === context.subtask).map((s) => s.nextCounter),
    )
    const { compaction, writer, basePath } = settings
    this.compactor =
      compaction === undefined
        ? undefined
        : new PartCompactor(
            compaction.settings,
            compaction.merge,
            { writer, basePath, nextPart: (bucket) => this.nextPart(bucket) },
            this.log,
          )
    this.carried = heldParts(restored ?? [])
    this.initialized = this.initialize(restored).catch((error) => this.fail(error))
    this.scheduleCheck()
  }

  /** The counter the next part file will get. */
  get nextPartCounter(): number {
    return this.nextCounter
  }

  /** Starts a transaction; records go to it from now on. */
  begin(): BucketTransaction {
    const txn = openTransaction(this as SubtaskBuckets<unknown>, this.context.subtask, this.context.parallelism)
    this.current = txn
    this.unsettled.add(txn)
    return txn
  }

  /** Writes one record into `txn` (the hot path: no await, no allocation beyond the encoded bytes). */
  write(txn: BucketTransaction, value: T, timestamp: number | undefined): void {
    if (this.failure !== undefined) throw this.failure
    const now = this.processingTime.now()
    const context = this.assignerContext
    context.timestamp = timestamp
    context.currentProcessingTime = now
    const bucketId = this.settings.bucketAssigner.getBucketId(value, context)
    const policy = this.settings.rollingPolicy
    let part = txn.active.get(bucketId)
    if (part !== undefined && (policy.shouldRollOnEvent(part, value) || policy.shouldRollOnProcessingTime(part, now))) {
      this.roll(txn, part)
      part = undefined
    }
    // Encode before opening a part, so a record that cannot be encoded leaves no empty file behind.
    const blocks = this.blockEncoder
    if (blocks !== undefined) {
      const bytes = blocks.check(value)
      if (bytes < 0) {
        this.deadLetter(`the ${blocks.name} schema cannot encode the record: ${blocks.reason(value)}`, value, now)
        return
      }
      part ??= this.openPart(txn, bucketId, value, now, undefined)
      part.appendRecord(value, bytes, now)
      return
    }
    const encoder = this.rowEncoder!
    let data: string | Uint8Array
    try {
      data = encoder.encode(value)
    } catch (error) {
      this.deadLetter(`the encoder ${encoder.name} threw: ${messageOf(error)}`, value, now)
      return
    }
    part ??= this.openPart(txn, bucketId, value, now, encoder.header)
    part.append(data, now)
  }

  private openPart(
    txn: BucketTransaction,
    bucketId: string,
    value: T,
    now: number,
    header: string | Uint8Array | undefined,
  ): PartFile {
    const part = new PartFile(checkBucketId(bucketId, value), now, this, header)
    txn.active.set(bucketId, part)
    txn.parts.push(part)
    return part
  }

  /** A record that cannot be encoded (refused by the schema, or the encoder threw): to the dead-letter output. */
  private deadLetter(why: string, value: T, now: number): void {
    const reason = `bucketingFileSink: ${why}`
    const deadLetter = this.context.deadLetter
    if (deadLetter === undefined) {
      this.log.warn('dead letter', { reason })
      return
    }
    deadLetter({ operator: 'bucketing-file-sink', subtask: this.context.subtask, reason, record: value, at: now })
  }

  /** Rolls the parts of the current transaction whose processing-time limits have passed. */
  checkProcessingTime(now = this.processingTime.now()): void {
    const txn = this.current
    if (txn === undefined) return
    for (const part of [...txn.active.values()]) {
      if (this.settings.rollingPolicy.shouldRollOnProcessingTime(part, now)) this.roll(txn, part)
    }
  }

  /**
   * Pre-commit: every part of `txn` is closed for commit (flushed, made durable); with compaction, the
   * parts of due buckets are merged (with the parts held from earlier checkpoints, which `txn` takes
   * over); then the directory entries are made durable too.
   */
  async preCommit(txn: BucketTransaction): Promise<void> {
    for (const part of txn.active.values()) part.close()
    txn.active.clear()
    await Promise.all(txn.parts.map((part) => part.closed()))
    if (this.failure !== undefined) throw this.failure
    const buckets = new Set(txn.parts.map((part) => part.bucketId))
    if (this.compactor !== undefined) {
      const previous = this.holder
      const compaction = this.compactor
        .compact(txn, previous?.compaction?.held ?? this.carried, this.final)
        .then((compacted) => {
          txn.compaction = compacted
          return compacted
        })
      this.compacting = compaction.then(
        () => undefined,
        () => undefined,
      )
      const compacted = await compaction
      // only now: a checkpoint's state names each held part once, in the transaction that holds it last
      if (previous?.compaction !== undefined) previous.compaction.held = []
      this.carried = []
      this.holder = txn
      for (const ref of compacted.merged) buckets.add(ref.bucket)
    }
    const writer = this.settings.writer
    if (writer.syncBuckets !== undefined && buckets.size > 0) await writer.syncBuckets(this.settings.basePath, buckets)
  }

  /** The end of input: the next pre-commit merges and publishes every held part. */
  endOfInput(): void {
    this.final = true
  }

  /** Abort: the parts of `txn` are dropped and discarded from the store. */
  async abort(txn: BucketTransaction): Promise<void> {
    for (const part of txn.parts) part.abort()
    txn.active.clear()
    await Promise.all(txn.parts.map((part) => part.settled()))
    await this.settings.writer.discard(this.settings.basePath, createdRefs(txn))
    this.unsettled.delete(txn)
  }

  /** `txn` was committed: nothing of it runs any more. */
  committed(txn: BucketTransaction): void {
    for (const part of txn.parts) part.state = 'finished'
    this.unsettled.delete(txn)
  }

  /** A promise while records must wait: the start-up scan runs, or too much is held in memory. */
  ready(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (!this.started)
      return this.initialized.then(() => {
        if (this.failure !== undefined) throw this.failure
      })
    const held = this.bufferedBytes > this.settings.maxBufferedBytes
    if (!held && this.writingBytes <= this.writeBehindBytes) return undefined
    // Parts each under writeBufferBytes can together exceed the limit: write them all out now.
    if (held && this.current !== undefined) for (const part of this.current.active.values()) part.flush()
    this.room ??= new Deferred()
    return this.room.promise
  }

  /**
   * Stops the periodic check and waits for every part's I/O to finish; with `leave`, then hands the
   * parts not committed to the next attempt.
   */
  async close(): Promise<void> {
    this.closed = true
    this.cancelCheck?.()
    this.cancelCheck = undefined
    await this.initialized
    if (this.leave === undefined)
      await Promise.all([...this.unsettled].flatMap((txn) => txn.parts.map((part) => part.settled())))
    else await this.leave(await this.uncommitted())
  }

  /**
   * Hands over to a successor in this process: no file is created from now on, the periodic check
   * stops, the open transaction's parts are dropped (records after the last barrier are replayed
   * whatever the successor restores), and once every part's I/O and a running compaction have settled
   * the parts not yet committed are returned (before the successor's scan lists the store).
   */
  async fence(): Promise<PartFileRef[]> {
    this.fenced = true
    this.closed = true
    this.cancelCheck?.()
    this.cancelCheck = undefined
    if (this.current !== undefined) {
      for (const part of this.current.parts) part.abort()
      this.current.active.clear()
    }
    await this.initialized
    return this.uncommitted()
  }

  /** Once every part's I/O and a running compaction have settled: the parts not committed. */
  private async uncommitted(): Promise<PartFileRef[]> {
    const parts = [...this.unsettled].flatMap((txn) => txn.parts)
    await Promise.all(parts.map((part) => part.settled()))
    // a merge the failed attempt started still creates its part: wait, so that it is discarded or found
    await this.compacting
    const held = [...this.carried, ...(this.holder?.compaction?.held ?? [])].map((h) => h.part)
    const merged = [...this.unsettled].flatMap((txn) => txn.compaction?.merged ?? [])
    return [
      ...parts.flatMap((part) => (part.ref === undefined || part.state === 'finished' ? [] : [part.ref])),
      ...merged,
      ...held,
    ]
  }

  async createFile(part: PartFile): Promise<OpenedPart> {
    await this.initialized
    if (this.failure !== undefined) throw this.failure
    if (this.fenced) {
      throw new StateError(
        'ERR_WRITER_FENCED',
        `bucketingFileSink subtask ${this.context.subtask}: another writer of this sink for the same subtask has taken over (a restart; or one sink instance passed to sinkTo twice, which is not supported)`,
      )
    }
    const { writer, basePath, encoder } = this.settings
    const ref = this.nextPart(part.bucketId)
    part.name = ref.name
    part.inProgressName = ref.inProgress
    // with compaction on a store that cannot read a pending part, parts are kept where compaction reads them
    const stream =
      this.compactor !== undefined && writer.openForCompaction !== undefined
        ? await writer.openForCompaction(basePath, ref)
        : await writer.open(basePath, ref)
    const plain: PartOutput = {
      write: (chunk) => stream.write(chunk),
      ...(stream.writev === undefined ? {} : { writev: (chunks: readonly Uint8Array[]) => stream.writev!(chunks) }),
      end: async () => {},
    }
    if (isBlockEncoder<T>(encoder)) {
      const blocks = encoder.open(plain) as BlockWriter<unknown>
      return { stream, output: { write: (chunk) => plain.write(chunk), end: () => blocks.end() }, blocks }
    }
    if (encoder.wrap !== undefined) return { stream, output: encoder.wrap(plain) }
    return {
      stream,
      output: plain,
      releasesChunks: stream.releasesWrites === true,
      overlapsWrites: stream.overlapsWrites === true,
    }
  }

  /** A new part of `bucket`, named with the subtask's next part counter. */
  private nextPart(bucket: string): PartFileRef {
    const names = this.settings.outputFileConfig
    const name = names.partName(this.context.subtask, this.nextCounter++)
    return { bucket, name, inProgress: names.inProgressName(name, randomUUID()) }
  }

  buffered(bytes: number): void {
    this.bufferedBytes += bytes
  }

  writing(bytes: number): void {
    this.writingBytes += bytes
  }

  written(bytes: number): void {
    this.writingBytes -= bytes
    this.resumeWhenRoom()
  }

  released(bytes: number): void {
    this.bufferedBytes -= bytes
    this.resumeWhenRoom()
  }

  /**
   * Resumes the input once the files have caught up to half the write-behind. Bytes held in parts (not
   * handed over) are not waited for: nothing writes them while the input waits; after a pause for
   * `maxBufferedBytes` every part has handed its bytes over.
   */
  private resumeWhenRoom(): void {
    if (this.room === undefined || this.writingBytes > this.writeBehindBytes / 2) return
    this.room.resolve()
    this.room = undefined
  }

  fail(error: unknown): void {
    if (this.failure !== undefined) return
    this.failure = error
    if (!this.fenced)
      this.log.error('bucketing file sink failed writing part files', {
        basePath: this.settings.basePath,
        reason: messageOf(error),
      })
    this.room?.reject(error)
    this.room = undefined
  }

  private roll(txn: BucketTransaction, part: PartFile): void {
    txn.active.delete(part.bucketId)
    part.close()
  }

  private scheduleCheck(): void {
    if (this.closed || !this.settings.rollingPolicy.rollsOnProcessingTime) return
    const time = this.processingTime
    this.cancelCheck = time.scheduleAt(time.now() + this.settings.bucketCheckIntervalMs, () => {
      this.cancelCheck = undefined
      if (this.closed) return
      this.checkProcessingTime()
      this.scheduleCheck()
    })
  }

  private async initialize(restored: readonly TransactionState[] | undefined): Promise<void> {
    const { writer, basePath, outputFileConfig } = this.settings
    const { subtask, parallelism } = this.context
    const predecessor = this.predecessor
    this.predecessor = undefined
    if (predecessor !== undefined) {
      const leftovers = await predecessor.fence()
      if (restored === undefined && leftovers.length > 0) {
        await writer.discard(basePath, leftovers)
        this.log.info('fresh restart: deleted the uncommitted part files of the previous attempt', {
          basePath,
          files: leftovers.length,
        })
      }
    }
    const scan = await writer.scan(basePath, outputFileConfig, subtask)
    this.nextCounter = Math.max(this.nextCounter, scan.maxCounter + 1)
    if (restored !== undefined && restored.length > 0 && scan.inProgress.length > 0) {
      const named = new Set(restored.flatMap((s) => namedParts(s).flatMap((p) => writer.identities(p))))
      const stale = scan.inProgress.filter((f) => !named.has(f.id))
      if (restored.some((s) => s.subtask !== subtask || s.parallelism !== parallelism)) {
        // the restored transactions' own parts are committed: only the others may be stale
        if (stale.length > 0)
          this.log.warn(
            'restored with another parallelism: in-progress part files no restored transaction names are left in place (hidden, never committed)',
            { basePath, files: stale.length },
          )
      } else {
        await writer.deleteStale(basePath, stale)
        if (stale.length > 0)
          this.log.info('deleted in-progress part files written after the restored checkpoint', {
            basePath,
            files: stale.length,
          })
      }
    }
    this.started = true
  }
}

/** Every file a restored transaction names: to publish, held, and to delete after the commit. */
function namedParts(state: TransactionState): readonly PartFileRef[] {
  if (state.version === 1) return state.parts
  return [...state.parts, ...state.held.map((h) => h.part), ...state.removed]
}

/**
 * The parts restored transactions hold for a later compaction. A part one of them holds and another
 * removes (merged by a later transaction) is not held: the commit deletes it.
 */
function heldParts(restored: readonly TransactionState[]): HeldPartRef[] {
  const removed = new Set<string>()
  for (const state of restored)
    if (state.version === 2) for (const ref of state.removed) removed.add(`${ref.bucket}/${ref.inProgress}`)
  return restored.flatMap((state) =>
    state.version === 2 ? state.held.filter((h) => !removed.has(`${h.part.bucket}/${h.part.inProgress}`)) : [],
  )
}

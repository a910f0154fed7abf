import type { KinesisClient, Shard } from '@aws-sdk/client-kinesis'
import { optionalDependency } from '../../util/optional-dependency.js'
import { DecodeError, messageOf } from '../../errors.js'
import type { SourceOutput, SourceReaderContext } from '../../runtime/source.js'
import { SplitBuffer } from '../base/split-buffer.js'
import { SplitReaderBase } from '../base/split-reader.js'
import type { KinesisRecord, KinesisShardSplit, KinesisSourceSettings } from './options.js'
import { type FetchedRecord, ShardFetcher, type ShardPosition } from './shard-fetcher.js'
import type { ShardFinishRegistry } from './finished-shards.js'
import { listShards, parentsOf, shardOwner } from './shard-lineage.js'

const kinesis = await optionalDependency<typeof import('@aws-sdk/client-kinesis')>('@aws-sdk/client-kinesis')

/** A shard this reader owns and reads now. */
class ActiveShard extends SplitBuffer<FetchedRecord> {
  fetchEnded = false
  fetcher!: ShardFetcher

  constructor(
    readonly shardId: string,
    public position: ShardPosition,
  ) {
    super(shardId)
  }
}

/**
 * The reader of a Kinesis source for one subtask: one {@link ShardFetcher} per shard it reads, and
 * children waiting for their parents; buffering, rotation and watermarks are
 * {@link SplitReaderBase}'s. Counts `throttledCalls` and `fetchCalls` in the job's metrics besides
 * the base's.
 *
 * A shard it finished counts at once for its own children; the other subtasks hear of it (through the
 * {@link ShardFinishRegistry}) only once a checkpoint that records it completed, when the job
 * checkpoints: their barriers of that checkpoint are then behind them, so every checkpoint that holds a
 * child's records holds its parents' end too, and a restore never reads a parent after its child.
 *
 * @example
 * const reader = kinesisSource({ stream: 'orders', endpoint }).createReader(context)
 */
export class KinesisSourceReader<T> extends SplitReaderBase<T, KinesisShardSplit, ActiveShard, FetchedRecord> {
  private readonly active = new Map<string, ActiveShard>()
  private readonly waiting = new Map<string, { parents: string[]; position: ShardPosition }>()
  private readonly finished = new Set<string>()
  /**
   * Shards this reader finished that the other subtasks are not told of yet, each with the first
   * checkpoint that records it (undefined until one was taken).
   */
  private readonly unannounced = new Map<string, number | undefined>()
  /** What this reader marked in the shared registry; cleared on close. */
  private readonly marks = new Set<string>()
  private readonly restored = new Map<string, KinesisShardSplit>()
  private readonly restoring: boolean
  private listed = new Set<string>()
  private unsubscribe: (() => void) | undefined
  private throttledBefore = 0

  constructor(
    private readonly settings: KinesisSourceSettings<T>,
    private readonly client: KinesisClient,
    private readonly registry: ShardFinishRegistry,
    context: SourceReaderContext,
    restored: KinesisShardSplit[] | undefined,
  ) {
    super(context, { connector: 'kinesis-source', splitName: 'shard', ...settings })
    this.restoring = restored !== undefined
    for (const split of restored ?? []) {
      this.restored.set(split.shardId, split)
      // Every reader learns the finished shards of the checkpoint, so children of any subtask may start.
      if (split.finished) this.markFinished(split.shardId)
    }
    this.metrics.gauge('throttledCalls', () => this.throttledCalls())
    this.metrics.gauge('fetchCalls', () => this.fetchCalls())
  }

  async start(): Promise<void> {
    this.unsubscribe = this.registry.subscribe(() => this.startWaiting())
    // The first listing is where an unreachable endpoint shows.
    await this.connect(() => this.discover(true), this.settings)
    this.startTimers(true)
  }

  protected emitRecord(s: ActiveShard, r: FetchedRecord, output: SourceOutput<T>): void {
    s.position =
      r.subSequenceNumber === undefined
        ? { kind: 'after', sequenceNumber: r.sequenceNumber }
        : { kind: 'after', sequenceNumber: r.sequenceNumber, subSequenceNumber: r.subSequenceNumber }
    const record: KinesisRecord = {
      stream: this.settings.stream,
      shardId: s.shardId,
      sequenceNumber: r.sequenceNumber,
      subSequenceNumber: r.subSequenceNumber,
      partitionKey: r.partitionKey,
      explicitHashKey: r.explicitHashKey,
      arrivalTimestamp: r.arrivalTimestamp,
      data: r.data,
    }
    let value: T
    try {
      value = this.settings.deserialize(record)
    } catch (cause) {
      throw new DecodeError(
        `kinesis record ${s.shardId}@${r.sequenceNumber}${r.subSequenceNumber === undefined ? '' : `/${r.subSequenceNumber}`} cannot be deserialized: ${messageOf(cause)}`,
        record,
        cause,
      )
    }
    this.collect(output, s.shardId, value, r.arrivalTimestamp)
  }

  protected override afterEmit(s: ActiveShard): void {
    if (s.buffered > 0) return
    if (s.fetchEnded) this.finish(s)
    else s.fetcher.wake()
  }

  protected wakeFetchers(): void {
    for (const a of this.active.values()) a.fetcher.wake()
  }

  snapshotState(checkpointId: number): KinesisShardSplit[] {
    for (const [shardId, recordedIn] of this.unannounced)
      if (recordedIn === undefined) this.unannounced.set(shardId, checkpointId)
    const splits: KinesisShardSplit[] = []
    for (const s of this.active.values()) splits.push({ v: 1, shardId: s.shardId, position: s.position })
    for (const [shardId, w] of this.waiting) splits.push({ v: 1, shardId, position: w.position })
    for (const shardId of this.finished)
      splits.push({ v: 1, shardId, position: { kind: 'trim-horizon' }, finished: true })
    return splits
  }

  /** The shards finished before checkpoint `checkpointId` (or an earlier one) are announced to the other subtasks. */
  notifyCheckpointComplete(checkpointId: number): void {
    for (const [shardId, recordedIn] of this.unannounced) {
      if (recordedIn === undefined || recordedIn > checkpointId) continue
      this.unannounced.delete(shardId)
      this.markFinished(shardId)
    }
  }

  override close(): void {
    super.close()
    this.unsubscribe?.()
    for (const s of this.active.values()) s.fetcher.close()
    for (const id of this.marks) this.registry.unmark(id)
    this.marks.clear()
  }

  /** Lists the shards and takes the new ones this subtask owns; children wait for their parents. */
  protected async discoverSplits(initial: boolean): Promise<void> {
    const shards = await listShards(
      (input) => this.client.send(new (kinesis.get('kinesisSource').ListShardsCommand)(input)),
      this.settings.stream,
    )
    this.listed = new Set(shards.map((s) => s.ShardId!))
    for (const shard of shards) {
      const id = shard.ShardId!
      if (shardOwner(shard, this.context.parallelism) !== this.context.subtask) continue
      if (this.active.has(id) || this.waiting.has(id) || this.finished.has(id)) continue
      const split = this.restored.get(id)
      if (split?.finished) {
        this.finished.add(id)
        continue
      }
      // A shard started at LATEST that had emitted nothing resumes from the time it was assigned.
      const restoredPosition =
        split?.position.kind === 'latest'
          ? { kind: 'at-timestamp' as const, timestamp: split.position.since }
          : split?.position
      const position = restoredPosition ?? this.initialPosition(shard, initial)
      if (position === 'skip') {
        this.finished.add(id)
        this.markFinished(id)
        continue
      }
      this.waiting.set(id, { parents: parentsOf(shard), position })
    }
    // Shards past the retention period are gone from the listing: forget them.
    for (const id of [...this.finished]) if (!this.listed.has(id)) this.finished.delete(id)
    this.startWaiting()
  }

  /**
   * `startFrom` for the shards of a fresh job's first listing — with LATEST, shards already closed hold
   * nothing new and count as finished; TRIM_HORIZON for shards found later or missing from the
   * checkpoint restored, so no record of a new shard is missed.
   */
  private initialPosition(shard: Shard, initial: boolean): ShardPosition | 'skip' {
    if (!initial || this.restoring) return { kind: 'trim-horizon' }
    const start = this.settings.startFrom
    if (start === 'TRIM_HORIZON') return { kind: 'trim-horizon' }
    if (start === 'LATEST')
      return shard.SequenceNumberRange?.EndingSequenceNumber !== undefined
        ? 'skip'
        : { kind: 'latest', since: Date.now() }
    return { kind: 'at-timestamp', timestamp: start.atTimestamp }
  }

  /** Starts the waiting shards whose parents are finished (or expired from the stream). */
  private startWaiting(): void {
    if (this.closed) return
    // a parent this reader finished counts at once: its own checkpoints keep the parent's end before the child
    const parentDone = (p: string): boolean =>
      !this.listed.has(p) || this.finished.has(p) || this.registry.isFinished(p)
    for (const [id, w] of this.waiting) {
      if (!w.parents.every(parentDone)) continue
      this.waiting.delete(id)
      const s = new ActiveShard(id, w.position)
      s.fetcher = new ShardFetcher(this.client, this.settings.stream, id, w.position, this.settings.fetch, {
        onRecords: (records) => this.receive(s, records),
        onEnd: () => {
          s.fetchEnded = true
          if (s.buffered === 0) this.finish(s)
          this.available.signal()
        },
        onFailure: (error) => this.fail(error),
        hasRoom: () => this.hasRoom(),
      })
      this.active.set(id, s)
      this.watermarks?.addSplit(id)
      s.fetcher.start()
    }
  }

  private receive(s: ActiveShard, records: FetchedRecord[]): void {
    if (this.closed || this.active.get(s.shardId) !== s) return
    this.enqueue(s, records)
    this.available.signal()
  }

  /** Every record of a closed shard was emitted: its children may start (here or in other subtasks). */
  private finish(s: ActiveShard): void {
    if (!this.active.delete(s.shardId)) return
    this.throttledBefore += s.fetcher.throttled
    s.fetcher.close()
    this.watermarks?.removeSplit(s.shardId)
    this.finished.add(s.shardId)
    if (this.context.checkpointIntervalMs === undefined) this.markFinished(s.shardId)
    else this.unannounced.set(s.shardId, undefined)
    // its children on this subtask may start now (this subtask's own checkpoints keep their order)
    this.startWaiting()
  }

  /** GetRecords and GetShardIterator calls answered with throttling, over all shards. */
  private throttledCalls(): number {
    let n = this.throttledBefore
    for (const s of this.active.values()) n += s.fetcher.throttled
    return n
  }

  /** GetRecords calls of the shards read now. */
  private fetchCalls(): number {
    let n = 0
    for (const s of this.active.values()) n += s.fetcher.calls
    return n
  }

  private markFinished(shardId: string): void {
    if (this.marks.has(shardId)) return
    this.marks.add(shardId)
    this.registry.mark(shardId)
  }
}

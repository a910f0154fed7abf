import type { Admin, Kafka } from 'kafkajs'
import { ConnectorError, DecodeError, messageOf } from '../../errors.js'
import type { InputStatus, SourceOutput, SourceReaderContext } from '../../runtime/source.js'
import { SplitReaderBase } from '../base/split-reader.js'
import { GroupMembership } from './group-membership.js'
import { type ClusterConnection, commitGroupOffsets, createCluster, type RawKafkaMessage } from './kafka-internals.js'
import { toKafkaRecord } from './kafka-record.js'
import type { KafkaPartitionSplit, KafkaSourceSettings } from './options.js'
import { OwnedPartition } from './owned-partition.js'
import { listPartitions, partitionOwner } from './partition-discovery.js'
import { PartitionFetcher } from './partition-fetcher.js'
import { partitionKey, resolvePartitionStarts, resolveStartOffsets, type TopicPartition } from './start-position.js'

/**
 * The reader of a Kafka source for one subtask: which partitions it owns (by hash, or as the consumer
 * group assigns them), where each starts, and fetching through {@link PartitionFetcher}; buffering,
 * rotation and watermarks are {@link SplitReaderBase}'s. Counts `fetchRequests` and `ownedPartitions`
 * in the job's metrics besides the base's.
 *
 * @example
 * const reader = kafkaSource({ brokers, topics: 'orders' }).createReader(context)
 * await reader.start()
 */
export class KafkaSourceReader<T> extends SplitReaderBase<T, KafkaPartitionSplit, OwnedPartition, RawKafkaMessage> {
  private readonly admin: Admin
  private readonly cluster: ClusterConnection
  private readonly fetcher: PartitionFetcher
  private readonly owned = new Map<string, OwnedPartition>()
  /** Offsets from the checkpoint restored, for partitions this reader owns or may own later. */
  private readonly restored = new Map<string, number>()
  private readonly restoring: boolean
  /** Partitions whose start offsets are being looked up. */
  private readonly adding = new Set<string>()
  private readonly pendingCommits = new Map<number, Array<{ topic: string; partition: number; offset: number }>>()
  private membership: GroupMembership | undefined
  private assigned = false
  /**
   * Group mode: the latest assignment, as keys. Assignments are applied one at a time (`reassigning`),
   * each start-offset lookup awaited, and only the latest waiting one is applied next (`nextAssignment`);
   * a partition revoked while its start offset was being looked up is not added.
   */
  private wanted: Set<string> | undefined
  private nextAssignment: TopicPartition[] | undefined
  private reassigning = false

  constructor(
    private readonly settings: KafkaSourceSettings<T>,
    private readonly kafka: Kafka,
    context: SourceReaderContext,
    restored: KafkaPartitionSplit[] | undefined,
  ) {
    super(context, { connector: 'kafka-source', splitName: 'partition', ...settings })
    this.admin = kafka.admin()
    this.cluster = createCluster(kafka, { isolationLevel: settings.isolationLevel })
    this.restoring = restored !== undefined
    // A rescaled restore hands every subtask every split; a partition listed twice (a stale copy kept by
    // a reader that had not started) resumes at the later offset, as positions only grow.
    for (const { topic, partition, offset } of restored ?? []) {
      const key = partitionKey(topic, partition)
      this.restored.set(key, Math.max(offset, this.restored.get(key) ?? offset))
    }
    this.fetcher = new PartitionFetcher(
      this.cluster,
      {
        isolationLevel: settings.isolationLevel,
        maxWaitMs: settings.fetchMaxWaitMs,
        maxBytes: settings.fetchMaxBytes,
        maxPartitionBytes: settings.maxPartitionFetchBytes,
        maxRetries: 10,
      },
      {
        onRecords: (key, messages, next) => this.receive(key, messages, next),
        onOffsetOutOfRange: (key) => this.outOfRange(key),
        onFailure: (error) => this.fail(error),
      },
      () => this.hasRoom(),
    )
    this.metrics.gauge('fetchRequests', () => this.fetcher.requests)
    this.metrics.gauge('ownedPartitions', () => this.owned.size)
  }

  /** The partitions this reader reads now, as 'topic:partition'. */
  get ownedPartitions(): string[] {
    return [...this.owned.keys()].sort()
  }

  async start(): Promise<void> {
    await this.connect(async () => {
      await this.admin.connect()
      await this.cluster.connect()
    }, this.settings)
    if (this.settings.assignment === 'consumer-group') {
      const topics = 'topics' in this.settings.selection ? this.settings.selection.topics : []
      this.membership = new GroupMembership(
        this.kafka,
        this.settings.groupId!,
        topics,
        this.settings.sessionTimeoutMs,
        this.log,
        { onAssignment: (partitions) => this.reassign(partitions), onFailure: (error) => this.fail(error) },
      )
      await this.membership.start()
    } else await this.discover(true)
    this.assigned = true
    this.startTimers(this.membership === undefined)
    this.available.signal()
  }

  protected emitRecord(p: OwnedPartition, message: RawKafkaMessage, output: SourceOutput<T>): void {
    const record = toKafkaRecord(p.topic, p.partition, message)
    let value: T
    try {
      value = this.settings.deserialize(record)
    } catch (cause) {
      throw new DecodeError(
        `kafka record ${p.topic}/${p.partition}@${record.offset} cannot be deserialized: ${messageOf(cause)}`,
        record,
        cause,
      )
    }
    this.collect(output, p.key, value, record.timestamp)
  }

  protected override afterEmit(p: OwnedPartition): void {
    if (p.finished) this.watermarks?.removeSplit(p.key)
  }

  protected wakeFetchers(): void {
    this.fetcher.wake()
  }

  snapshotState(checkpointId: number): KafkaPartitionSplit[] {
    const splits: KafkaPartitionSplit[] = []
    for (const p of this.owned.values())
      splits.push({ v: 1, topic: p.topic, partition: p.partition, offset: p.position })
    // Partitions not read yet keep the offset they were restored with: all of them until start() has
    // taken its partitions (it may still be connecting), then those still being added.
    for (const [key, offset] of this.restored) {
      if (!this.owned.has(key) && (!this.assigned || this.adding.has(key)))
        splits.push({ v: 1, ...splitKey(key), offset })
    }
    if (this.settings.commitOffsets)
      this.pendingCommits.set(
        checkpointId,
        splits.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
      )
    return splits
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    let offsets: Array<{ topic: string; partition: number; offset: number }> | undefined
    for (const [id, o] of this.pendingCommits) {
      if (id > checkpointId) continue
      offsets = o
      this.pendingCommits.delete(id)
    }
    if (offsets === undefined || this.closed) return
    try {
      // Commits are for monitoring and `startFrom: committed`; a failed one is retried by the next checkpoint.
      if (this.membership !== undefined)
        await this.membership.commit(offsets.filter((o) => this.owned.has(partitionKey(o.topic, o.partition))))
      else await commitGroupOffsets(this.cluster, this.settings.groupId!, offsets)
    } catch (error) {
      this.log.warn('committing offsets to the consumer group failed', {
        groupId: this.settings.groupId,
        checkpointId,
        error,
      })
    }
  }

  override async close(): Promise<void> {
    super.close()
    this.fetcher.close()
    await this.membership?.stop()
    await Promise.allSettled([this.admin.disconnect(), this.cluster.disconnect()])
  }

  protected override idleStatus(): InputStatus {
    if (
      this.settings.stopAtLatest &&
      this.assigned &&
      this.adding.size === 0 &&
      [...this.owned.values()].every((p) => p.finished)
    )
      return 'end'
    return 'nothing-available'
  }

  private receive(key: string, messages: RawKafkaMessage[], nextOffset: number): void {
    const p = this.owned.get(key)
    if (p === undefined || this.closed) return
    let chunk = messages
    if (p.stopOffset !== undefined && chunk.length > 0 && Number(chunk[chunk.length - 1]!.offset) >= p.stopOffset)
      chunk = chunk.filter((m) => Number(m.offset) < p.stopOffset!)
    p.fetchOffset = nextOffset
    this.enqueue(p, chunk)
    if (p.stopOffset !== undefined && nextOffset >= p.stopOffset) {
      p.fetchDone = true
      this.fetcher.hold(key)
      if (p.finished) this.watermarks?.removeSplit(key)
    }
    this.available.signal()
  }

  /** Subtask mode: list the partitions, and take those that hash to this subtask and are new. */
  protected async discoverSplits(initial: boolean): Promise<void> {
    const all = await listPartitions(this.admin, this.settings.selection)
    const mine = all.filter(
      (tp) => partitionOwner(tp.topic, tp.partition, this.context.parallelism) === this.context.subtask,
    )
    await this.add(
      mine.filter((tp) => !this.owned.has(partitionKey(tp.topic, tp.partition))),
      initial,
    )
  }

  /**
   * Group mode: a new assignment after a rebalance. Rebalances can follow each other faster than start
   * offsets are looked up: the assignments are applied in order, one at a time, skipping to the latest.
   */
  private reassign(partitions: TopicPartition[]): void {
    this.wanted = new Set(partitions.map((tp) => partitionKey(tp.topic, tp.partition)))
    this.nextAssignment = partitions
    if (this.reassigning) return
    this.reassigning = true
    void this.applyAssignments().finally(() => {
      this.reassigning = false
    })
  }

  private async applyAssignments(): Promise<void> {
    while (this.nextAssignment !== undefined && !this.closed) {
      const partitions = this.nextAssignment
      this.nextAssignment = undefined
      const keys = new Set(partitions.map((tp) => partitionKey(tp.topic, tp.partition)))
      for (const [key, p] of this.owned) {
        if (keys.has(key)) continue
        // Revoked: its buffered records are dropped; the new owner reads from the group's offset.
        this.owned.delete(key)
        this.fetcher.remove(key)
        this.dropSplit(p)
      }
      try {
        const added = partitions.filter((tp) => !this.owned.has(partitionKey(tp.topic, tp.partition)))
        await this.add(added, !this.assigned)
        if (added.length === 0) this.reportAssignment()
      } catch (error) {
        this.fail(
          new ConnectorError('ERR_ASSIGN', `kafka source: cannot start the assigned partitions: ${messageOf(error)}`, {
            cause: error,
            retriable: true,
          }),
        )
        return
      }
    }
  }

  private async add(partitions: TopicPartition[], initial: boolean): Promise<void> {
    if (partitions.length === 0) return
    const keys = partitions.map((tp) => partitionKey(tp.topic, tp.partition))
    for (const key of keys) this.adding.add(key)
    try {
      // In group mode a partition nobody has committed yet was started at startFrom by every owner so far.
      const position =
        this.membership !== undefined || (initial && !this.restoring)
          ? this.settings.startFrom
          : { kind: 'earliest' as const }
      const starts = await resolvePartitionStarts(this.admin, partitions, {
        restored: this.restored,
        groupId: this.membership !== undefined ? this.settings.groupId : undefined,
        position,
        positionGroupId: this.settings.groupId,
      })
      const stops = this.settings.stopAtLatest
        ? await resolveStartOffsets(this.admin, { kind: 'latest' }, undefined, partitions)
        : undefined
      for (const tp of partitions) {
        const key = partitionKey(tp.topic, tp.partition)
        // a partition revoked by a rebalance during the lookup is left to its new owner
        if (this.closed || this.owned.has(key) || (this.wanted !== undefined && !this.wanted.has(key))) continue
        const start = starts.get(key)!
        const p = new OwnedPartition(key, tp.topic, tp.partition, start, stops?.get(key))
        this.owned.set(key, p)
        if (p.stopOffset !== undefined && start >= p.stopOffset) p.fetchDone = true
        else {
          this.watermarks?.addSplit(key)
          this.fetcher.add(tp.topic, tp.partition, start)
        }
      }
    } finally {
      for (const key of keys) this.adding.delete(key)
      this.available.signal()
    }
    this.reportAssignment()
  }

  private reportAssignment(): void {
    this.settings.onPartitionsAssigned?.({ subtask: this.context.subtask, partitions: this.ownedPartitions })
  }

  private outOfRange(key: string): void {
    const policy = this.settings.onOffsetOutOfRange
    const p = this.owned.get(key)
    if (p === undefined) return
    if (policy === 'fail')
      return this.fail(
        new ConnectorError(
          'ERR_OFFSET_OUT_OF_RANGE',
          `kafka source: offset ${p.fetchOffset} of ${p.topic}/${p.partition} no longer exists (onOffsetOutOfRange 'fail')`,
        ),
      )
    resolveStartOffsets(this.admin, { kind: policy }, undefined, [p]).then(
      (offsets) => {
        const offset = offsets.get(key)!
        this.log.warn('fetch offset out of range; resetting', {
          topic: p.topic,
          partition: p.partition,
          from: p.fetchOffset,
          to: offset,
          policy,
        })
        p.fetchOffset = offset
        this.fetcher.seek(key, offset)
      },
      (error) => this.fail(error),
    )
  }
}

function splitKey(key: string): { topic: string; partition: number } {
  const i = key.lastIndexOf(':')
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) }
}

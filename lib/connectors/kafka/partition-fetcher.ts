import { backoffDelay } from '../../util/backoff.js'
import { ConnectorError, messageOf } from '../../errors.js'
import { type ClusterConnection, type RawKafkaMessage, toBatch } from './kafka-internals.js'
import { partitionKey } from './start-position.js'

/** Fetch settings, validated by the source. */
export interface FetchSettings {
  readonly isolationLevel: 0 | 1
  readonly maxWaitMs: number
  readonly maxBytes: number
  readonly maxPartitionBytes: number
  /** Consecutive failed fetches (each after a backoff) before the reader fails. */
  readonly maxRetries: number
}

/** What the fetcher tells its reader. Called outside the reader's turn; the reader only records them. */
export interface FetchListener {
  /** Records of one partition, in offset order; `nextOffset` is where the following fetch starts. */
  onRecords(key: string, messages: RawKafkaMessage[], nextOffset: number, highWatermark: number): void
  /** The broker no longer has `key`'s fetch offset (deleted by retention): the reader picks a new one. */
  onOffsetOutOfRange(key: string): void
  /** Fetching failed `maxRetries` times in a row. */
  onFailure(error: ConnectorError): void
}

interface FetchState {
  readonly topic: string
  readonly partition: number
  offset: number
  /** Bumped when the offset is set from outside, so an answer to an older request is dropped. */
  generation: number
  /** Not fetched: finished (bounded), or waiting for a new offset after OFFSET_OUT_OF_RANGE. */
  held: boolean
}

const STALE_METADATA = new Set([
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSBrokerNotFound',
])

/**
 * Fetches the partitions one reader owns from exact offsets, one Fetch request in flight per leader
 * broker, and only while the reader has room (`hasRoom`): when the reader's buffer is full no request
 * is sent, so at most one answer per broker (≤ `maxBytes`) arrives beyond the bound. The reader calls
 * `wake()` when it has room again. Leader changes refresh the metadata; other failures are retried
 * with backoff, and after `maxRetries` in a row the reader is told to fail.
 *
 * @example
 * const fetcher = new PartitionFetcher(cluster, settings, listener, () => buffered < limit)
 * fetcher.add('orders', 0, 42)
 */
export class PartitionFetcher {
  private readonly partitions = new Map<string, FetchState>()
  private readonly busyNodes = new Set<string>()
  private topicsKnown = new Set<string>()
  private metadataPending: Promise<void> | undefined
  private failures = 0
  private retryTimer: NodeJS.Timeout | undefined
  private closed = false
  /** Fetch requests sent, for tests and metrics. */
  requests = 0

  constructor(
    private readonly cluster: ClusterConnection,
    private readonly settings: FetchSettings,
    private readonly listener: FetchListener,
    private readonly hasRoom: () => boolean,
  ) {}

  /** Starts fetching `topic`/`partition` at `offset`. */
  add(topic: string, partition: number, offset: number): void {
    const key = partitionKey(topic, partition)
    const existing = this.partitions.get(key)
    if (existing !== undefined) return this.seek(key, offset)
    this.partitions.set(key, { topic, partition, offset, generation: 0, held: false })
    // A new partition of a topic already known: the cluster's metadata may not have its leader yet.
    if (this.topicsKnown.has(topic)) this.topicsKnown.delete(topic)
    this.wake()
  }

  /** Stops fetching a partition; an answer already on its way is dropped. */
  remove(key: string): void {
    this.partitions.delete(key)
  }

  /** Fetches `key` from `offset` on (after an out-of-range reset); answers to older requests are dropped. */
  seek(key: string, offset: number): void {
    const state = this.partitions.get(key)
    if (state === undefined) return
    state.offset = offset
    state.generation++
    state.held = false
    this.wake()
  }

  /** Stops fetching a partition without forgetting it (it reached its stop offset). */
  hold(key: string): void {
    const state = this.partitions.get(key)
    if (state !== undefined) state.held = true
  }

  /** The reader has room again (or partitions changed): send the requests that can go. */
  wake(): void {
    if (this.closed || this.retryTimer !== undefined || !this.hasRoom()) return
    const byTopic = new Map<string, FetchState[]>()
    for (const state of this.partitions.values()) {
      if (state.held) continue
      let list = byTopic.get(state.topic)
      if (list === undefined) byTopic.set(state.topic, (list = []))
      list.push(state)
    }
    if (byTopic.size === 0) return
    const unknown = [...byTopic.keys()].filter((t) => !this.topicsKnown.has(t))
    if (unknown.length > 0) return this.learnTopics(unknown)
    const byNode = new Map<string, FetchState[]>()
    try {
      for (const [topic, states] of byTopic) {
        const leaders = this.cluster.findLeaderForPartitions(
          topic,
          states.map((s) => s.partition),
        )
        for (const [node, partitions] of Object.entries(leaders)) {
          if (this.busyNodes.has(node)) continue
          let list = byNode.get(node)
          if (list === undefined) byNode.set(node, (list = []))
          for (const p of partitions) list.push(states.find((s) => s.partition === p)!)
        }
      }
    } catch (error) {
      return this.failed(error)
    }
    for (const [node, states] of byNode) void this.fetchFrom(node, states)
  }

  close(): void {
    this.closed = true
    clearTimeout(this.retryTimer)
  }

  private learnTopics(topics: string[]): void {
    if (this.metadataPending !== undefined) return
    this.metadataPending = this.cluster
      .addMultipleTargetTopics(topics)
      .then(() => this.cluster.refreshMetadata())
      .then(
        () => {
          this.metadataPending = undefined
          for (const t of topics) this.topicsKnown.add(t)
          this.wake()
        },
        (error) => {
          this.metadataPending = undefined
          this.failed(error)
        },
      )
  }

  private async fetchFrom(node: string, states: FetchState[]): Promise<void> {
    this.busyNodes.add(node)
    const sent = states.map((s) => ({ state: s, offset: s.offset, generation: s.generation }))
    const topics = new Map<string, Array<{ partition: number; fetchOffset: string; maxBytes: number }>>()
    for (const { state, offset } of sent) {
      let list = topics.get(state.topic)
      if (list === undefined) topics.set(state.topic, (list = []))
      list.push({ partition: state.partition, fetchOffset: String(offset), maxBytes: this.settings.maxPartitionBytes })
    }
    try {
      this.requests++
      const broker = await this.cluster.findBroker({ nodeId: node })
      const { responses } = await broker.fetch({
        replicaId: -1,
        isolationLevel: this.settings.isolationLevel,
        maxWaitTime: this.settings.maxWaitMs,
        minBytes: 1,
        maxBytes: this.settings.maxBytes,
        topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
      })
      this.busyNodes.delete(node)
      this.failures = 0
      if (this.closed) return
      for (const { topicName, partitions } of responses) {
        for (const data of partitions) {
          const key = partitionKey(topicName, data.partition)
          const request = sent.find((r) => r.state.partition === data.partition && r.state.topic === topicName)
          const state = this.partitions.get(key)
          if (request === undefined || state !== request.state || state.generation !== request.generation) continue
          const batch = toBatch(topicName, String(request.offset), data)
          const next = nextOffset(request.offset, batch.rawMessages)
          state.offset = next
          if (batch.messages.length > 0 || next !== request.offset)
            this.listener.onRecords(key, batch.messages, next, Number(batch.highWatermark))
        }
      }
      this.wake()
    } catch (error) {
      this.busyNodes.delete(node)
      if (this.closed) return
      const e = error as { type?: string; name?: string; topic?: string; partition?: number }
      if (e.type === 'OFFSET_OUT_OF_RANGE' && e.topic !== undefined && e.partition !== undefined) {
        const key = partitionKey(e.topic, e.partition)
        const state = this.partitions.get(key)
        if (state !== undefined) state.held = true
        this.listener.onOffsetOutOfRange(key)
        return this.wake()
      }
      this.failed(error)
    }
  }

  private failed(error: unknown): void {
    if (this.closed) return
    const e = error as { type?: string; name?: string }
    if (STALE_METADATA.has(e.type ?? '') || STALE_METADATA.has(e.name ?? ''))
      void this.cluster.refreshMetadata().catch(() => undefined)
    if (++this.failures > this.settings.maxRetries) {
      this.listener.onFailure(
        new ConnectorError('ERR_FETCH', `kafka fetch failed ${this.failures} times in a row: ${messageOf(error)}`, {
          cause: error,
          retriable: true,
        }),
      )
      this.close()
      return
    }
    clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined
        this.wake()
      },
      backoffDelay(this.failures - 1, { initialDelayMs: 50, maxDelayMs: 5_000 }),
    )
  }
}

/** Past the last record the broker returned (control records and aborted ones included), else where it was. */
function nextOffset(fetched: number, raw: readonly RawKafkaMessage[]): number {
  if (raw.length === 0) return fetched
  return Math.max(fetched, Number(raw[raw.length - 1]!.offset) + 1)
}

import type { Consumer, Kafka } from 'kafkajs'
import { ConnectorError, messageOf } from '../../errors.js'
import type { TopicPartition } from './start-position.js'

/**
 * Membership of a consumer group, for splitting partitions across processes ('consumer-group'
 * assignment). A kafkajs consumer joins the group, heartbeats and takes part in rebalances, but never
 * fetches: every subscribed topic is paused as soon as an assignment arrives, and the reader fetches
 * the assigned partitions itself from exact offsets. Each new assignment (after every rebalance) is
 * handed to `onAssignment`.
 *
 * @example
 * const member = new GroupMembership(kafka, 'billing', ['orders'], 10_000, (parts) => reader.assign(parts), fail)
 * await member.start()
 */
export class GroupMembership {
  private readonly consumer: Consumer
  private stopped = false
  /** Assignments received, for tests. */
  generations = 0

  constructor(
    kafka: Kafka,
    readonly groupId: string,
    private readonly topics: readonly string[],
    sessionTimeoutMs: number,
    private readonly onAssignment: (partitions: TopicPartition[]) => void,
    private readonly onFailure: (error: ConnectorError) => void,
  ) {
    this.consumer = kafka.consumer({ groupId, sessionTimeout: sessionTimeoutMs, heartbeatInterval: Math.max(100, Math.floor(sessionTimeoutMs / 3)), rebalanceTimeout: Math.max(sessionTimeoutMs, 10_000), maxWaitTimeInMs: 100, allowAutoTopicCreation: false, retry: { retries: 5 } })
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      // Synchronous, inside kafkajs's join: the topics are paused before its first fetch.
      this.consumer.pause(this.topics.map((topic) => ({ topic })))
      this.generations++
      const partitions: TopicPartition[] = []
      for (const [topic, list] of Object.entries(event.payload.memberAssignment)) for (const partition of list) partitions.push({ topic, partition })
      if (!this.stopped) this.onAssignment(partitions)
    })
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      if (this.stopped || event.payload.restart) return
      this.onFailure(new ConnectorError('ERR_GROUP', `kafka consumer group ${groupId}: membership lost: ${messageOf(event.payload.error)}`, { cause: event.payload.error, retriable: true }))
    })
  }

  /** Joins the group; resolves after the first assignment. */
  async start(): Promise<void> {
    await this.consumer.connect()
    await this.consumer.subscribe({ topics: [...this.topics], fromBeginning: true })
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => undefined })
  }

  /** Commits offsets (the next offset to read) as this member of the group. */
  async commit(offsets: ReadonlyArray<{ topic: string; partition: number; offset: number }>): Promise<void> {
    if (offsets.length === 0 || this.stopped) return
    await this.consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })))
  }

  /** Leaves the group, so the others take over its partitions at once. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.consumer.disconnect().catch(() => undefined)
  }
}

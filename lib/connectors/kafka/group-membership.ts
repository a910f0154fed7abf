import type { Consumer, Kafka } from 'kafkajs'
import { backoffDelay } from '../../util/backoff.js'
import { ConnectorError, messageOf } from '../../errors.js'
import type { Logger } from '../../logging.js'
import { type ProcessingTimeService, systemProcessingTime } from '../../time/processing-time.js'
import type { TopicPartition } from './start-position.js'

/** Consecutive failed joins before the membership gives up and fails the source. */
const MAX_REJOINS = 5
/** Rejoin delays: 250 ms, doubling (at most 5 rejoins reach 4 s). */
const REJOIN_BACKOFF = { initialDelayMs: 250, maxDelayMs: 4_000 }

/** What a membership reports to its reader. */
export interface MembershipListener {
  /** A new assignment (after every rebalance); `[]` when the member lost the group and rejoins. */
  onAssignment(partitions: TopicPartition[]): void
  /** The member could not rejoin after MAX_REJOINS attempts. */
  onFailure(error: ConnectorError): void
}

/**
 * Membership of a consumer group, for splitting partitions across processes ('consumer-group'
 * assignment). A kafkajs consumer joins the group, heartbeats and takes part in rebalances, but never
 * fetches: every subscribed topic is paused as soon as an assignment arrives, and the reader fetches
 * the assigned partitions itself from exact offsets.
 *
 * kafkajs gives up on a group error it considers fatal (for example INVALID_REQUEST, which librdkafka's
 * mock coordinator answers to a SyncGroup that arrives after the leader's). The member then gives up
 * its partitions (`onAssignment([])`) and joins again with exponential backoff, as Kafka's own consumer
 * does after losing its membership; after MAX_REJOINS consecutive failures the source fails. The backoff
 * waits on `clock` (by default a plain timer, not the subtask's mailbox clock, which goes quiet once a
 * deployment is cancelled); `stop()` cancels a pending rejoin.
 *
 * @example
 * const member = new GroupMembership(kafka, 'billing', ['orders'], 10_000, log, { onAssignment: (p) => reader.assign(p), onFailure: fail })
 * await member.start()
 */
export class GroupMembership {
  private readonly consumer: Consumer
  private stopped = false
  private failedJoins = 0
  private cancelRejoin: (() => void) | undefined

  constructor(
    kafka: Kafka,
    readonly groupId: string,
    private readonly topics: readonly string[],
    sessionTimeoutMs: number,
    private readonly log: Logger,
    private readonly listener: MembershipListener,
    private readonly clock: ProcessingTimeService = systemProcessingTime,
  ) {
    this.consumer = kafka.consumer({
      groupId,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: Math.max(100, Math.floor(sessionTimeoutMs / 3)),
      rebalanceTimeout: Math.max(sessionTimeoutMs, 10_000),
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
      retry: { retries: 5 },
    })
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      // Synchronous, inside kafkajs's join: the topics are paused before its first fetch.
      this.consumer.pause(this.topics.map((topic) => ({ topic })))
      this.failedJoins = 0
      const partitions: TopicPartition[] = []
      for (const [topic, list] of Object.entries(event.payload.memberAssignment))
        for (const partition of list) partitions.push({ topic, partition })
      if (!this.stopped) this.listener.onAssignment(partitions)
    })
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      if (this.stopped || event.payload.restart) return
      this.rejoinAfter(event.payload.error)
    })
  }

  /** Subscribes and joins the group (kafkajs returns once the first join has been answered). */
  async start(): Promise<void> {
    await this.consumer.connect()
    await this.consumer.subscribe({ topics: [...this.topics], fromBeginning: true })
    await this.run()
  }

  /** Commits offsets (the next offset to read) as this member of the group. */
  async commit(offsets: ReadonlyArray<{ topic: string; partition: number; offset: number }>): Promise<void> {
    if (offsets.length === 0 || this.stopped) return
    await this.consumer.commitOffsets(
      offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })),
    )
  }

  /** Leaves the group, so the others take over its partitions at once. */
  async stop(): Promise<void> {
    this.stopped = true
    this.cancelRejoin?.()
    await this.consumer.disconnect().catch(() => undefined)
  }

  private async run(): Promise<void> {
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => undefined })
  }

  /** kafkajs stopped the consumer (and left the group): give up the partitions and join again. */
  private rejoinAfter(error: Error): void {
    if (++this.failedJoins > MAX_REJOINS) {
      this.listener.onFailure(
        new ConnectorError(
          'ERR_GROUP',
          `kafka consumer group ${this.groupId}: membership lost ${MAX_REJOINS + 1} times in a row: ${messageOf(error)}`,
          { cause: error, retriable: true },
        ),
      )
      return
    }
    const delayMs = backoffDelay(this.failedJoins - 1, REJOIN_BACKOFF)
    this.log.warn('consumer group membership lost; rejoining', {
      groupId: this.groupId,
      attempt: this.failedJoins,
      delayMs,
      error,
    })
    this.listener.onAssignment([])
    this.cancelRejoin = this.clock.scheduleAt(this.clock.now() + delayMs, () => {
      this.cancelRejoin = undefined
      if (this.stopped) return
      this.consumer
        .connect()
        .then(() => this.run())
        .catch((cause: Error) => this.rejoinAfter(cause))
    })
  }
}

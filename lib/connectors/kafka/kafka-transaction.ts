import type { Kafka, Producer, Transaction } from 'kafkajs'
import type { CommitOutcome } from '../../checkpoint/two-phase-commit-sink.js'
import { ConnectorError, messageOf } from '../../errors.js'
import { endTransaction, type ProducerIdentity, type RecordPosition, recordIsCommitted } from './kafka-internals.js'
import { TopicMessages } from './producer-records.js'

/** A transaction as a checkpoint keeps it (version 1). */
export interface KafkaTransactionState {
  readonly v: 1
  readonly transactionalId: string
  /** The writer's subtask and parallelism when it began, and its number (`<prefix>-<subtask>-<n>`). */
  readonly subtask: number
  readonly parallelism: number
  readonly n: number
  /** The checkpoint this state was written for. */
  readonly checkpointId: number
  /** Producer id and epoch at the broker, once the transaction has been initialised. */
  readonly producerId?: string
  readonly producerEpoch?: number
  readonly records: number
  /** When the transaction was pre-committed (ms since the epoch): the broker aborts it `transactionTimeoutMs` after it began. */
  readonly preCommittedAt?: number
  /** Where its first record lies: read back, it tells whether the transaction committed. */
  readonly firstRecord?: RecordPosition
}

/** What happened to a transaction, for a `transactionListener` (monitoring, tests). */
export interface KafkaTransactionEvent {
  readonly type: 'pre-committed' | 'committed' | 'aborted' | 'recovered' | 'lingering-aborted'
  readonly transactionalId: string
  readonly producerId?: string
  readonly producerEpoch?: number
  readonly records: number
}

/** How a transaction reaches the broker; shared by the transactions of one writer. */
export interface TransactionContext {
  readonly kafka: Kafka
  readonly identities: Map<string, ProducerIdentity>
  /** Resolves when lingering transactions are aborted; transactions open only after it. */
  readonly ready: Promise<void>
  readonly transactionTimeoutMs: number
  readonly acks: -1 | 1
  readonly createPartitioner: NonNullable<Parameters<Kafka['producer']>[0]>['createPartitioner']
  readonly listener: ((event: KafkaTransactionEvent) => void) | undefined
  /** The writer's transactions that have a producer, so closing the writer closes them all. */
  readonly live: Set<KafkaTransaction>
}

/** What aborting lingering transactions needs. */
export type LingeringContext = Omit<TransactionContext, 'ready' | 'live'>

/**
 * One Kafka transaction of the exactly-once sink: its own transactional producer (kafkajs runs one
 * transaction per producer at a time, and its id names the checkpoint). It opens in the background
 * (after lingering transactions were aborted), records are sent in batches, in order, inside it; the
 * pre-commit waits for every acknowledgement; commit and abort end it and close the producer.
 *
 * A transaction restored from a checkpoint has no producer: it is committed by producer id and epoch.
 */
export class KafkaTransaction {
  readonly buffer = new TopicMessages()
  records = 0
  inFlight = 0
  private producer: Producer | undefined
  private transaction: Transaction | undefined
  private chain: Promise<void>
  private failure: Error | undefined
  private identity: ProducerIdentity | undefined
  private preCommittedAt: number | undefined
  private firstRecord: RecordPosition | undefined
  private ended = false
  private closing = false

  constructor(
    readonly id: string,
    readonly n: number,
    readonly subtask: number,
    readonly parallelism: number,
    private readonly context: TransactionContext,
    restored?: KafkaTransactionState,
  ) {
    if (restored !== undefined) {
      this.records = restored.records
      this.preCommittedAt = restored.preCommittedAt
      this.firstRecord = restored.firstRecord
      if (restored.producerId !== undefined)
        this.identity = { producerId: restored.producerId, producerEpoch: restored.producerEpoch ?? 0 }
      this.chain = Promise.resolve()
      return
    }
    context.live.add(this)
    this.chain = context.ready.then(() => this.open())
    this.chain.catch((error) => this.fail(error))
  }

  get error(): Error | undefined {
    return this.failure
  }

  /** Sends what is buffered, after what was sent before. */
  send(): void {
    if (this.buffer.size === 0) return
    const count = this.buffer.size
    const topicMessages = this.buffer.drain()
    this.inFlight += count
    this.chain = this.chain.then(async () => {
      if (this.failure !== undefined) return
      try {
        const written = await this.transaction!.sendBatch({ topicMessages, acks: this.context.acks })
        this.inFlight -= count
        if (this.firstRecord === undefined) {
          const first = written.find((w) => w.baseOffset !== undefined)
          if (first !== undefined)
            this.firstRecord = { topic: first.topicName, partition: first.partition, offset: Number(first.baseOffset) }
        }
      } catch (error) {
        this.fail(error)
      }
    })
  }

  /** Resolves when every record sent so far is acknowledged (or sending failed). */
  async drained(): Promise<void> {
    await this.chain
  }

  async preCommit(): Promise<void> {
    this.send()
    await this.chain
    if (this.failure !== undefined) throw this.failure
    this.preCommittedAt = Date.now()
    this.context.listener?.({
      type: 'pre-committed',
      transactionalId: this.id,
      ...this.identity,
      records: this.records,
    })
  }

  /**
   * Commits; a restored transaction by producer id and epoch (one without records has nothing to
   * commit: kafkajs sends no EndTxn for it either, so the broker holds it Empty). A repeated commit is accepted by the
   * broker, but not once its transactional id has moved on: a newer epoch (a later transaction under the
   * same id, or a restore that initialised the id) answers 'old epoch', and a transaction aborted since
   * answers INVALID_TXN_STATE. Those answers cannot tell a transaction committed before from one
   * aborted (by its timeout, or fenced): its first record, read back read_committed, tells — visible is
   * 'already-committed', hidden is ConnectorError 'ERR_TRANSACTION_LOST'.
   */
  async commit(): Promise<CommitOutcome> {
    if (this.transaction !== undefined) {
      if (!this.ended) {
        await this.transaction.commit()
        this.ended = true
      }
      this.context.listener?.({ type: 'committed', transactionalId: this.id, ...this.identity, records: this.records })
      await this.close()
      return 'committed'
    }
    // Restored without records: nothing to commit, and nothing to ask the broker. Its id was initialised
    // when it opened, but no partition was added, so the coordinator holds it Empty and would refuse a
    // commit (INVALID_TXN_STATE) — and during a coordinator move the request could not be answered at all.
    if (this.records === 0 || this.identity === undefined) return 'committed'
    try {
      await endTransaction(this.context.kafka, this.id, this.identity, true)
    } catch (error) {
      const type = (error as { type?: string }).type ?? ''
      if (
        [
          'CONCURRENT_TRANSACTIONS',
          'COORDINATOR_LOAD_IN_PROGRESS',
          'NOT_COORDINATOR',
          'COORDINATOR_NOT_AVAILABLE',
        ].includes(type) ||
        (error as { retriable?: boolean }).retriable === true
      )
        return 'retry-later'
      if (!MOVED_ON.includes(type)) throw this.lost(error, 'the broker refused the commit')
      if (this.firstRecord === undefined) throw this.lost(error, 'no record position in the checkpoint to check it by')
      const committed = await recordIsCommitted(this.context.kafka, this.firstRecord)
      if (committed === undefined) return 'retry-later'
      if (!committed) throw this.lost(error, 'its records were aborted')
      this.context.listener?.({ type: 'recovered', transactionalId: this.id, ...this.identity, records: this.records })
      return 'already-committed'
    }
    this.context.listener?.({ type: 'recovered', transactionalId: this.id, ...this.identity, records: this.records })
    return 'committed'
  }

  async abort(): Promise<void> {
    this.closing = true
    await this.chain.catch(() => undefined)
    if (this.transaction !== undefined && !this.ended) {
      this.ended = true
      if (this.transaction.isActive()) await this.transaction.abort().catch(() => undefined)
      this.context.listener?.({ type: 'aborted', transactionalId: this.id, ...this.identity, records: this.records })
    }
    await this.close()
  }

  /**
   * The writer is closing: if not opened yet (still waiting for lingering transactions to be aborted),
   * it never opens. Opening would initialise its transactional id, which the writer of a restarted job
   * may be using by then, and fence that writer's transaction.
   */
  stopOpening(): void {
    this.closing = true
  }

  /** Closes the producer; a pre-committed transaction stays open at the broker for a later commit. */
  async close(): Promise<void> {
    this.context.live.delete(this)
    const producer = this.producer
    this.producer = undefined
    await producer?.disconnect().catch(() => undefined)
  }

  /** The transaction in the state of checkpoint `checkpointId`. */
  toState(checkpointId: number): KafkaTransactionState {
    return {
      v: 1,
      transactionalId: this.id,
      subtask: this.subtask,
      parallelism: this.parallelism,
      n: this.n,
      checkpointId,
      ...(this.identity === undefined
        ? {}
        : { producerId: this.identity.producerId, producerEpoch: this.identity.producerEpoch }),
      records: this.records,
      ...(this.preCommittedAt === undefined ? {} : { preCommittedAt: this.preCommittedAt }),
      ...(this.firstRecord === undefined ? {} : { firstRecord: this.firstRecord }),
    }
  }

  private async open(): Promise<void> {
    if (this.closing) return this.fail(new Error('the writer closed before the transaction opened'))
    const { kafka, transactionTimeoutMs, createPartitioner } = this.context
    const producer = kafka.producer({
      transactionalId: this.id,
      maxInFlightRequests: 1,
      transactionTimeout: transactionTimeoutMs,
      createPartitioner,
      allowAutoTopicCreation: false,
    })
    this.producer = producer
    await producer.connect()
    this.transaction = await producer.transaction()
    this.identity = this.context.identities.get(this.id)
  }

  private lost(error: unknown, why: string): ConnectorError {
    const age = this.preCommittedAt === undefined ? 'unknown' : `${Date.now() - this.preCommittedAt} ms`
    return new ConnectorError(
      'ERR_TRANSACTION_LOST',
      `kafka transaction ${this.id} (producer ${this.identity?.producerId}, epoch ${this.identity?.producerEpoch}) cannot be committed after the restore: ${messageOf(error)} (${why}); pre-committed ${age} ago — the broker aborts transactions older than transactionTimeoutMs (${this.context.transactionTimeoutMs} ms), and its records are lost`,
      { cause: error },
    )
  }

  private fail(error: unknown): void {
    this.failure ??= new ConnectorError('ERR_SEND', `kafka transaction ${this.id}: ${messageOf(error)}`, {
      cause: error,
      retriable: true,
    })
  }
}

/** Broker answers to a repeated commit once the transactional id has moved on: committed before, or aborted. */
const MOVED_ON = ['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_TXN_STATE', 'INVALID_PRODUCER_ID_MAPPING']

/**
 * Aborts the transactions an earlier run may have left open under `<prefix>-<subtask>-<n>` for n from
 * `from` on: InitProducerId with a transactional id fences the producer that used it and aborts its
 * open transaction. It stops after `lookahead` ids in a row came back with epoch 0 — never used
 * before (a real broker bumps the epoch of an id it knows). Returns how many ids were probed.
 *
 * @example
 * await abortLingering(context, 'orders-sink', 0, 8)
 */
export async function abortLingering(
  context: LingeringContext,
  prefix: string,
  subtask: number,
  from: number,
  lookahead = 2,
): Promise<number> {
  let unused = 0
  let probed = 0
  for (let n = from; unused <= lookahead; n++) {
    const id = `${prefix}-${subtask}-${n}`
    const producer = context.kafka.producer({
      transactionalId: id,
      maxInFlightRequests: 1,
      transactionTimeout: context.transactionTimeoutMs,
      allowAutoTopicCreation: false,
    })
    await producer.connect()
    try {
      const transaction = await producer.transaction()
      await transaction.abort()
    } finally {
      await producer.disconnect().catch(() => undefined)
    }
    probed++
    const identity = context.identities.get(id)
    if (identity === undefined || identity.producerEpoch === 0) unused++
    else {
      unused = 0
      context.listener?.({ type: 'lingering-aborted', transactionalId: id, ...identity, records: 0 })
    }
  }
  return probed
}

/**
 * The few places where sluice reaches below kafkajs's public API, kept in one file.
 *
 * - kafkajs has no manual partition assignment (Java's `consumer.assign()`): its consumer always joins
 *   a group and fetches what the group assigns. A source whose positions live in the checkpoint needs
 *   to fetch exactly the partitions a subtask owns from exactly the offsets it restored, so the reader
 *   sends Fetch requests through kafkajs's own `Cluster`/`Broker` (kafkajs's protocol code, not ours).
 *   Their answers are filtered by `committedRecords` (aborted-records.ts), not by kafkajs's `Batch`,
 *   whose filter lets records of aborted transactions through.
 * - kafkajs cannot resume a transaction after a restart: a new producer with the same transactional id
 *   runs InitProducerId, which aborts the open transaction. Flink resumes by producer id and epoch; so
 *   do we: the producer id and epoch of each transaction are captured from the InitProducerId answer,
 *   kept in the checkpoint, and a restored transaction is committed with an EndTxn request carrying them.
 * - Committing a group's offsets without being a member of it (generation -1, as Flink does) needs an
 *   OffsetCommit request; kafkajs's admin `setOffsets` first calls DescribeGroups.
 *
 * kafkajs 2.x has been stable since 2022; `requireInternals` checks the shape once and fails with
 * ConnectorError 'ERR_KAFKA_CLIENT' naming what is missing if a future version moves it.
 */
import { createRequire } from 'node:module'
import type { Kafka } from 'kafkajs'
import { ConnectorError } from '../../errors.js'
import { type AbortedTransaction, committedRecords, type RecordBatchContext } from './aborted-records.js'

const require = createRequire(import.meta.url)

/** A message as kafkajs decodes it from a record batch. */
export interface RawKafkaMessage {
  readonly offset: string
  readonly timestamp: string
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>
  /** The record batch it came from; absent in the old message format. */
  readonly batchContext?: RecordBatchContext
}

/** The messages of one partition in one Fetch answer: all of them, and those a consumer sees. */
export interface FetchedBatch {
  readonly topic: string
  readonly partition: number
  readonly highWatermark: string
  /** From the fetch offset on, control records and (read_committed) those of aborted transactions removed. */
  readonly messages: RawKafkaMessage[]
  /** Every decoded record, control records and those before the fetch offset included. */
  readonly rawMessages: RawKafkaMessage[]
}

/** One partition of a Fetch answer, as kafkajs decodes it. */
export interface FetchedPartition {
  readonly partition: number
  readonly highWatermark: string
  readonly messages: RawKafkaMessage[]
  /** Transactions aborted in the fetched range (read_committed); empty or null otherwise. */
  readonly abortedTransactions: readonly AbortedTransaction[] | null
}

interface PartitionFetchRequest {
  readonly partition: number
  readonly fetchOffset: string
  readonly maxBytes: number
}

/** The part of kafkajs's Broker the connector calls. */
export interface BrokerConnection {
  fetch(request: {
    replicaId?: number
    isolationLevel: number
    maxWaitTime: number
    minBytes: number
    maxBytes: number
    topics: Array<{ topic: string; partitions: PartitionFetchRequest[] }>
  }): Promise<{
    responses: Array<{ topicName: string; partitions: FetchedPartition[] }>
  }>
  endTxn(request: {
    producerId: string
    producerEpoch: number
    transactionalId: string
    transactionResult: boolean
  }): Promise<unknown>
  initProducerId(request: {
    transactionalId?: string
    transactionTimeout?: number
  }): Promise<{ producerId: string; producerEpoch: number }>
  offsetCommit(request: {
    groupId: string
    groupGenerationId: number
    memberId: string
    retentionTime?: number
    topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>
  }): Promise<unknown>
}

/** The part of kafkajs's Cluster the connector calls. */
export interface ClusterConnection {
  connect(): Promise<void>
  disconnect(): Promise<void>
  refreshMetadata(): Promise<void>
  addMultipleTargetTopics(topics: string[]): Promise<void>
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>
  findBroker(request: { nodeId: string }): Promise<BrokerConnection>
  findGroupCoordinator(request: { groupId: string; coordinatorType?: number }): Promise<BrokerConnection>
}

type CreateCluster = (options: {
  isolationLevel?: number
  metadataMaxAge?: number
  allowAutoTopicCreation?: boolean
}) => ClusterConnection

/** kafkajs's coordinator type for transaction coordinators (FindCoordinator key type 1). */
const TRANSACTION_COORDINATOR = 1

/**
 * A kafkajs Cluster of `kafka`'s configuration (brokers, TLS, SASL), with its own connections.
 *
 * @example
 * const cluster = createCluster(new Kafka({ brokers }), { isolationLevel: 1 }); await cluster.connect()
 */
export function createCluster(kafka: Kafka, options: { isolationLevel?: number } = {}): ClusterConnection {
  return clusterFactory(kafka)({ ...options, allowAutoTopicCreation: false })
}

/**
 * One partition of a Fetch answer as a consumer at `fetchedOffset` sees it: the broker may return
 * records before it (the whole batch that holds it), and control records, which are dropped; so are,
 * read_committed, the records of the transactions it lists as aborted (see `committedRecords`).
 *
 * @example
 * const batch = toBatch('orders', '42', partitionData); batch.messages
 */
export function toBatch(topic: string, fetchedOffset: string, partitionData: FetchedPartition): FetchedBatch {
  const { partition, highWatermark, messages, abortedTransactions } = partitionData
  const from = Number(fetchedOffset)
  // Control records come only in record batches, which committedRecords drops; records before the
  // fetch offset only at the start (the batch holding it): cut them off without a second array.
  const committed = committedRecords(messages, abortedTransactions)
  let start = 0
  while (start < committed.length && Number(committed[start]!.offset) < from) start++
  const visible = start === 0 ? committed : committed.slice(start)
  return { topic, partition, highWatermark, messages: visible, rawMessages: messages }
}

/** The identity of a transaction at the broker: what EndTxn needs to finish it from another producer. */
export interface ProducerIdentity {
  readonly producerId: string
  readonly producerEpoch: number
}

/**
 * Records the producer id and epoch that the transaction coordinator hands to every transactional
 * producer created from `kafka` afterwards, by transactional id. Installed once per Kafka instance.
 *
 * @example
 * const ids = captureProducerIdentities(kafka); ...; ids.get('orders-sink-0-7') // { producerId: '4001', producerEpoch: 0 }
 */
export function captureProducerIdentities(kafka: Kafka): Map<string, ProducerIdentity> {
  const holder = kafka as unknown as { [CAPTURED]?: Map<string, ProducerIdentity> }
  if (holder[CAPTURED] !== undefined) return holder[CAPTURED]
  const identities = new Map<string, ProducerIdentity>()
  const symbol = clusterSymbol(kafka)
  const target = kafka as unknown as Record<symbol, CreateCluster>
  const create = target[symbol]!
  target[symbol] = (options) => {
    const cluster = create(options)
    const findCoordinator = cluster.findGroupCoordinator.bind(cluster)
    cluster.findGroupCoordinator = async (request) => {
      const broker = await findCoordinator(request)
      if (request.coordinatorType === TRANSACTION_COORDINATOR) wrapInitProducerId(broker, identities)
      return broker
    }
    return cluster
  }
  holder[CAPTURED] = identities
  return identities
}

const CAPTURED = Symbol('sluice:producerIdentities')
const WRAPPED = Symbol('sluice:initProducerIdWrapped')

function wrapInitProducerId(broker: BrokerConnection, identities: Map<string, ProducerIdentity>): void {
  const marked = broker as BrokerConnection & { [WRAPPED]?: boolean }
  if (marked[WRAPPED] === true) return
  marked[WRAPPED] = true
  const init = broker.initProducerId.bind(broker)
  broker.initProducerId = async (request) => {
    const answer = await init(request)
    if (request.transactionalId !== undefined)
      identities.set(request.transactionalId, {
        producerId: String(answer.producerId),
        producerEpoch: answer.producerEpoch,
      })
    return answer
  }
}

/**
 * Ends a transaction by its producer id and epoch, from a fresh connection: what a restored sink does
 * for a transaction that was pre-committed before a crash. `commit` false aborts it.
 *
 * @example
 * await endTransaction(kafka, 'orders-sink-0-7', { producerId: '4001', producerEpoch: 0 }, true)
 */
export async function endTransaction(
  kafka: Kafka,
  transactionalId: string,
  identity: ProducerIdentity,
  commit: boolean,
): Promise<void> {
  const cluster = createCluster(kafka)
  await cluster.connect()
  try {
    const coordinator = await cluster.findGroupCoordinator({
      groupId: transactionalId,
      coordinatorType: TRANSACTION_COORDINATOR,
    })
    await coordinator.endTxn({
      producerId: identity.producerId,
      producerEpoch: identity.producerEpoch,
      transactionalId,
      transactionResult: commit,
    })
  } finally {
    await cluster.disconnect().catch(() => undefined)
  }
}

/** Where one record lies in the log. */
export interface RecordPosition {
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

/**
 * Whether the record at `position` is visible to read_committed consumers: true once its transaction
 * committed, false once it was aborted, undefined when that cannot be told (yet: its transaction or an
 * earlier one is still open, so the last stable offset is not past it; or any more: the record has
 * left the log). Reads one fetch from the partition's leader, as a read_committed consumer would.
 *
 * @example
 * await recordIsCommitted(kafka, { topic: 'orders', partition: 2, offset: 1041 }) // true
 */
export async function recordIsCommitted(kafka: Kafka, position: RecordPosition): Promise<boolean | undefined> {
  const { topic, partition, offset } = position
  const cluster = createCluster(kafka, { isolationLevel: 1 })
  await cluster.connect()
  try {
    await cluster.addMultipleTargetTopics([topic])
    const leader = Object.keys(cluster.findLeaderForPartitions(topic, [partition]))[0]
    if (leader === undefined) return undefined
    const broker = await cluster.findBroker({ nodeId: leader })
    const { responses } = await broker.fetch({
      replicaId: -1,
      isolationLevel: 1,
      maxWaitTime: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes: 1 << 20 }] }],
    })
    const data = responses[0]?.partitions[0]
    if (data === undefined) return undefined
    const batch = toBatch(topic, String(offset), data)
    if (!batch.rawMessages.some((m) => Number(m.offset) === offset)) return undefined
    // read_committed, `messages` leaves out the records of aborted transactions
    return batch.messages.some((m) => Number(m.offset) === offset)
  } finally {
    await cluster.disconnect().catch(() => undefined)
  }
}

/**
 * Commits offsets (the next offset to read, per partition) to a consumer group without joining it.
 *
 * @example
 * await commitGroupOffsets(cluster, 'monitoring', [{ topic: 'orders', partition: 0, offset: 120 }])
 */
export async function commitGroupOffsets(
  cluster: ClusterConnection,
  groupId: string,
  offsets: ReadonlyArray<{ topic: string; partition: number; offset: number }>,
): Promise<void> {
  const byTopic = new Map<string, Array<{ partition: number; offset: string }>>()
  for (const { topic, partition, offset } of offsets) {
    let partitions = byTopic.get(topic)
    if (partitions === undefined) byTopic.set(topic, (partitions = []))
    partitions.push({ partition, offset: String(offset) })
  }
  if (byTopic.size === 0) return
  const coordinator = await cluster.findGroupCoordinator({ groupId })
  await coordinator.offsetCommit({
    groupId,
    groupGenerationId: -1,
    memberId: '',
    retentionTime: -1,
    topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
  })
}

function clusterFactory(kafka: Kafka): CreateCluster {
  const create = (kafka as unknown as Record<symbol, CreateCluster>)[clusterSymbol(kafka)]
  return (options) => create!(options)
}

function clusterSymbol(kafka: Kafka): symbol {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster')
  if (symbol === undefined || typeof (kafka as unknown as Record<symbol, unknown>)[symbol] !== 'function') {
    throw new ConnectorError(
      'ERR_KAFKA_CLIENT',
      `this kafkajs version (${kafkajsVersion()}) has no Cluster factory where sluice expects it (kafkajs 2.x): the Kafka connector cannot fetch by partition`,
    )
  }
  return symbol
}

function kafkajsVersion(): string {
  try {
    return (require('kafkajs/package.json') as { version: string }).version
  } catch {
    return 'unknown'
  }
}

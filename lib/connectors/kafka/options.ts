import type { Kafka, KafkaConfig } from 'kafkajs'
import type { RetryOptions, RetrySchedule } from '../base/retry-options.js'
import type { WatermarkStrategy } from '../../time/watermark-strategy.js'
import type { KafkaDeserializer, KafkaProducerRecord, KafkaRecord } from './kafka-record.js'
import type { TopicSelection } from './partition-discovery.js'
import type { StartPosition, validateStartPosition } from './start-position.js'

/** How the connector reaches Kafka: broker addresses, or a kafkajs configuration or client of your own. */
export interface KafkaConnectionOptions {
  /** Bootstrap brokers, 'host:port'. Needed unless `client` is given. */
  brokers?: string[]
  /** A kafkajs `Kafka` client or its configuration (TLS, SASL, timeouts); overrides `brokers`. */
  client?: Kafka | KafkaConfig
  /** Default 'sluice'. */
  clientId?: string
}

/** A partition's position in a checkpoint: the offset of the next record to emit. Versioned for future changes. */
export interface KafkaPartitionSplit {
  readonly v: 1
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

/** The source's settings after validation, defaults filled in. */
export interface KafkaSourceSettings<T> {
  readonly selection: TopicSelection
  readonly startFrom: ReturnType<typeof validateStartPosition>
  readonly groupId: string | undefined
  readonly assignment: 'subtasks' | 'consumer-group'
  readonly commitOffsets: boolean
  readonly discoveryIntervalMs: number
  readonly deserialize: (record: KafkaRecord) => T
  readonly watermarks: WatermarkStrategy<T> | undefined
  readonly watermarkIntervalMs: number
  readonly isolationLevel: 0 | 1
  readonly maxBufferedRecords: number
  readonly fetchMaxBytes: number
  readonly maxPartitionFetchBytes: number
  readonly fetchMaxWaitMs: number
  readonly stopAtLatest: boolean
  readonly onOffsetOutOfRange: 'earliest' | 'latest' | 'fail'
  readonly sessionTimeoutMs: number
  readonly onPartitionsAssigned: ((event: { subtask: number; partitions: string[] }) => void) | undefined
  readonly retry: RetrySchedule
  /** What the source reads, for errors: 'kafka source: brokers a:9092 (topics orders)'. */
  readonly target: string
}

/** Sending settings shared by the sinks, after validation. */
export interface ProducerSettings {
  readonly batchSize: number
  readonly lingerMs: number
  readonly maxInFlightRecords: number
  readonly acks: -1 | 1
}

/** Options of {@link KafkaSource} (Flink's KafkaSource builder). */
export interface KafkaSourceOptions<T> extends KafkaConnectionOptions {
  /** Topics to read; or use `topicPattern`. */
  topics?: string | string[]
  /** Read every topic whose name matches; topics created later are found by partition discovery. */
  topicPattern?: RegExp
  /** Where partitions without a checkpointed offset start; default 'earliest'. */
  startFrom?: StartPosition
  /**
   * A consumer group: the group of `startFrom: { committed }`, where offsets are committed when a
   * checkpoint completes (for monitoring), and the group that assigns partitions with
   * `assignment: 'consumer-group'`.
   */
  groupId?: string
  /**
   * Who decides which subtask reads which partition. 'subtasks' (default): each subtask owns the
   * partitions that hash to it, and the checkpoint alone holds the offsets. 'consumer-group': the
   * subtasks of every process running this job join `groupId` and Kafka splits the partitions among
   * them (scale-out across machines; see docs/connectors/kafka.md for the guarantee).
   */
  assignment?: 'subtasks' | 'consumer-group'
  /** Commit the checkpointed offsets to `groupId` when a checkpoint completes; default true when `groupId` is set. */
  commitOffsetsOnCheckpoint?: boolean
  /** Look for new partitions and topics this often; 0 turns discovery off. Default 10,000 ms. */
  partitionDiscoveryIntervalMs?: number
  /** What a record becomes; default 'buffer' (a {@link KafkaRecord} with Buffers). */
  deserializer?: KafkaDeserializer<T>
  /** Per-partition watermarks: one generator per partition, the source's watermark is their minimum. */
  watermarks?: WatermarkStrategy<T>
  /** How often the per-partition generators emit; default 200 ms. */
  watermarkIntervalMs?: number
  /** Default 'read_committed': records of aborted transactions are skipped (on a broker that marks them). */
  isolationLevel?: 'read_committed' | 'read_uncommitted'
  /** Records fetched and not yet emitted before fetching pauses; default 50,000. */
  maxBufferedRecords?: number
  /** Most bytes one Fetch answer may carry; default 10 MiB (as kafkajs's consumer). */
  fetchMaxBytes?: number
  /** Most bytes per partition in one Fetch answer; default 1 MiB. */
  maxPartitionFetchBytes?: number
  /** How long the broker may hold a Fetch while it has no new records; default 500 ms. */
  fetchMaxWaitMs?: number
  /** Stop at the end offsets found when each partition is first assigned: the source is bounded. */
  stopAt?: 'latest'
  /** A fetch position that no longer exists (retention deleted it): 'earliest' (default), 'latest' or 'fail'. */
  onOffsetOutOfRange?: 'earliest' | 'latest' | 'fail'
  /** Group session timeout with `assignment: 'consumer-group'`; default 10,000 ms. */
  sessionTimeoutMs?: number
  /** Told the partitions ('topic:partition') a subtask reads, whenever they change (monitoring, tests). */
  onPartitionsAssigned?: (event: { subtask: number; partitions: string[] }) => void
  /**
   * Connecting at start: each attempt is kafkajs's own connect (which retries by the client's `retry`
   * configuration, about 8 s by default); after these retries the source fails with ConnectorError
   * 'ERR_CONNECT' naming the brokers and topics.
   */
  retry?: RetryOptions
}

/** What the sink promises: with 'exactly-once' it writes in Kafka transactions. */
export type KafkaSinkGuarantee = 'none' | 'at-least-once' | 'exactly-once'

/** Chooses the partition of a record that has none of its own. */
export type KafkaPartitioner<T> =
  | 'default'
  | 'round-robin'
  | ((record: { topic: string; partitionCount: number; key: Buffer | string | null | undefined; value: T }) => number)

/** Options of {@link kafkaSink} (Flink's KafkaSink builder). */
export interface KafkaSinkOptions<T> extends KafkaConnectionOptions {
  /** The topic of every record, or a function choosing it per value. */
  topic: string | ((value: T) => string)
  /** Key, value, headers (and optionally partition, timestamp) of a value; default: the value as text. */
  serializer?: (value: T) => KafkaProducerRecord
  /** 'default' (murmur2 of the key, as the Java client), 'round-robin', or a function. */
  partitioner?: KafkaPartitioner<T>
  /** Default 'at-least-once'. */
  guarantee?: KafkaSinkGuarantee
  /** Prefix of the transactional ids (`<prefix>-<subtask>-<checkpoint>`); needed for exactly-once, unique per job. */
  transactionalIdPrefix?: string
  /** The broker aborts a transaction open longer than this; default 60,000 ms (brokers cap it at 15 min). */
  transactionTimeoutMs?: number
  /** The longest a restart may take, for the transaction-timeout warning; default 30,000 ms. */
  maxRestartMs?: number
  /** The job's checkpoint interval, to warn at build time; measured at run time otherwise. */
  checkpointIntervalMs?: number
  /** Records per produce request; default 500. */
  batchSize?: number
  /** How long a partial batch waits for more records; default 5 ms. */
  lingerMs?: number
  /** Records written and not yet acknowledged before the writer stops taking more; default 10,000. */
  maxInFlightRecords?: number
  /** Acknowledgements the leader waits for: -1 all in-sync replicas (default), 1 the leader. */
  acks?: -1 | 1
}

/** The keys of {@link KafkaConnectionOptions}. */
export const KAFKA_CONNECTION_KEYS = ['brokers', 'client', 'clientId'] as const satisfies ReadonlyArray<
  keyof KafkaConnectionOptions
>

/** The keys of {@link KafkaSourceOptions}: any other key is refused. */
export const KAFKA_SOURCE_KEYS = [
  ...KAFKA_CONNECTION_KEYS,
  'topics',
  'topicPattern',
  'startFrom',
  'groupId',
  'assignment',
  'commitOffsetsOnCheckpoint',
  'partitionDiscoveryIntervalMs',
  'deserializer',
  'watermarks',
  'watermarkIntervalMs',
  'isolationLevel',
  'maxBufferedRecords',
  'fetchMaxBytes',
  'maxPartitionFetchBytes',
  'fetchMaxWaitMs',
  'stopAt',
  'onOffsetOutOfRange',
  'sessionTimeoutMs',
  'onPartitionsAssigned',
  'retry',
] as const satisfies ReadonlyArray<keyof KafkaSourceOptions<unknown>>

/** The keys of {@link KafkaSinkOptions} (and the transactional sink's listener): any other key is refused. */
export const KAFKA_SINK_KEYS = [
  ...KAFKA_CONNECTION_KEYS,
  'topic',
  'serializer',
  'partitioner',
  'guarantee',
  'transactionalIdPrefix',
  'transactionTimeoutMs',
  'maxRestartMs',
  'checkpointIntervalMs',
  'batchSize',
  'lingerMs',
  'maxInFlightRecords',
  'acks',
  'transactionListener',
] as const

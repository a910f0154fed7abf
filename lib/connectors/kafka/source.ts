import type { Kafka } from 'kafkajs'
import { ConfigError } from '../../errors.js'
import type { Source, SourceReaderContext } from '../../runtime/source.js'
import { validateWatermarkStrategy } from '../../time/watermark-strategy.js'
import { type KafkaDeserializer, type KafkaRecord, stringRecord } from './kafka-record.js'
import { oneOf, optionsObject, wholeNumber } from '../../util/options.js'
import { retrySchedule } from '../base/retry-options.js'
import { describeBrokers, kafkaClient } from './connection.js'
import {
  KAFKA_SOURCE_KEYS,
  type KafkaPartitionSplit,
  type KafkaSourceOptions,
  type KafkaSourceSettings,
} from './options.js'
import type { TopicSelection } from './partition-discovery.js'
import { KafkaSourceReader } from './reader.js'
import { validateStartPosition } from './start-position.js'

/**
 * Reads Kafka topics (Flink's KafkaSource). Each subtask reads the partitions it owns — by a hash of
 * topic and partition (default), or as a consumer group assigns them (`assignment: 'consumer-group'`)
 * — fetching from exact offsets with a bounded buffer: fetching pauses while `maxBufferedRecords`
 * records wait for downstream.
 *
 * **The checkpoint is the source of truth for offsets**: each partition's next offset is in the
 * checkpoint, and a restored job reads on from there, whatever the consumer group says. With
 * `groupId`, the checkpointed offsets are also committed to the group when the checkpoint completes
 * (for monitoring and for `startFrom: committed` in a new job). Partitions without a checkpointed
 * offset start at `startFrom`; partitions found later by discovery start at the earliest offset so
 * none of their records are missed.
 *
 * Records carry their Kafka timestamp as event time. With `watermarks`, each partition has its own
 * watermark generator and the source emits the minimum over the partitions that are not idle.
 *
 * Guarantee: exactly-once with checkpoints and an exactly-once sink (records between the last
 * checkpoint and a failure are read again). With `assignment: 'consumer-group'`, at-least-once when
 * partitions move between processes (see docs/connectors/kafka.md).
 *
 * @example
 * env.fromSource(kafkaSource({ brokers: ['localhost:9092'], topics: 'orders', deserializer: 'string' }), { uid: 'orders' })
 *   .pipe(decode((r: KafkaRecord<string | null, string | null, string>) => JSON.parse(r.value!)))
 */
export class KafkaSource<T = KafkaRecord> implements Source<T, KafkaPartitionSplit> {
  readonly name = 'kafka'
  readonly bounded: boolean
  readonly restoredSplits = 'all' as const
  readonly commitsOnCheckpoint: boolean
  readonly settings: KafkaSourceSettings<T>
  private readonly clientOptions: KafkaSourceOptions<T>

  constructor(options: KafkaSourceOptions<T>) {
    options = optionsObject('kafkaSource', options, KAFKA_SOURCE_KEYS)
    this.clientOptions = options
    kafkaClient('kafkaSource', options) // validates the connection options now, not at deployment
    const {
      topics,
      topicPattern,
      groupId,
      assignment = 'subtasks',
      partitionDiscoveryIntervalMs = 10_000,
      watermarkIntervalMs = 200,
    } = options
    let selection: TopicSelection
    if (topicPattern !== undefined) {
      if (!(topicPattern instanceof RegExp)) throw new ConfigError('kafkaSource.topicPattern', topicPattern, 'a RegExp')
      if (topics !== undefined)
        throw new ConfigError('kafkaSource.topics', topics, 'nothing next to topicPattern (give one of them)')
      selection = { pattern: topicPattern }
    } else {
      const list = typeof topics === 'string' ? [topics] : topics
      if (!Array.isArray(list) || list.length === 0 || !list.every((t) => typeof t === 'string' && t !== ''))
        throw new ConfigError(
          'kafkaSource.topics',
          topics,
          'a topic name or a non-empty list of them (or topicPattern)',
        )
      selection = { topics: [...new Set(list)] }
    }
    if (groupId !== undefined && (typeof groupId !== 'string' || groupId === ''))
      throw new ConfigError('kafkaSource.groupId', groupId, 'a non-empty string')
    oneOf('kafkaSource.assignment', assignment, ['subtasks', 'consumer-group'])
    if (assignment === 'consumer-group' && groupId === undefined)
      throw new ConfigError('kafkaSource.groupId', groupId, "a group id with assignment 'consumer-group'")
    if (assignment === 'consumer-group' && 'pattern' in selection)
      throw new ConfigError(
        'kafkaSource.topicPattern',
        topicPattern,
        "a topic list with assignment 'consumer-group' (the group subscribes to fixed topics)",
      )
    const commitOffsets = options.commitOffsetsOnCheckpoint ?? groupId !== undefined
    if (typeof commitOffsets !== 'boolean')
      throw new ConfigError('kafkaSource.commitOffsetsOnCheckpoint', commitOffsets, 'true or false')
    if (commitOffsets && groupId === undefined)
      throw new ConfigError(
        'kafkaSource.groupId',
        groupId,
        'a group id to commit offsets to (commitOffsetsOnCheckpoint)',
      )
    const stopAt = options.stopAt
    if (stopAt !== undefined) oneOf('kafkaSource.stopAt', stopAt, ['latest'])
    const watermarks = options.watermarks
    if (watermarks !== undefined) validateWatermarkStrategy('kafkaSource.watermarks', watermarks)
    this.settings = {
      selection,
      startFrom: validateStartPosition('kafkaSource.startFrom', options.startFrom ?? 'earliest', groupId),
      groupId,
      assignment,
      commitOffsets,
      discoveryIntervalMs:
        stopAt !== undefined
          ? 0
          : wholeNumber('kafkaSource.partitionDiscoveryIntervalMs', partitionDiscoveryIntervalMs, undefined, 0),
      deserialize: deserializerOf(options.deserializer ?? 'buffer'),
      watermarks,
      watermarkIntervalMs: wholeNumber('kafkaSource.watermarkIntervalMs', watermarkIntervalMs, undefined, 1),
      isolationLevel:
        oneOf(
          'kafkaSource.isolationLevel',
          options.isolationLevel,
          ['read_committed', 'read_uncommitted'],
          'read_committed',
        ) === 'read_committed'
          ? 1
          : 0,
      maxBufferedRecords: wholeNumber('kafkaSource.maxBufferedRecords', options.maxBufferedRecords, 50_000, 1),
      fetchMaxBytes: wholeNumber('kafkaSource.fetchMaxBytes', options.fetchMaxBytes, 10 << 20, 1024),
      maxPartitionFetchBytes: wholeNumber(
        'kafkaSource.maxPartitionFetchBytes',
        options.maxPartitionFetchBytes,
        1 << 20,
        1024,
      ),
      fetchMaxWaitMs: wholeNumber('kafkaSource.fetchMaxWaitMs', options.fetchMaxWaitMs, 500, 0),
      stopAtLatest: stopAt === 'latest',
      onOffsetOutOfRange: oneOf(
        'kafkaSource.onOffsetOutOfRange',
        options.onOffsetOutOfRange,
        ['earliest', 'latest', 'fail'],
        'earliest',
      ),
      sessionTimeoutMs: wholeNumber('kafkaSource.sessionTimeoutMs', options.sessionTimeoutMs, 10_000, 1_000),
      onPartitionsAssigned: options.onPartitionsAssigned,
      retry: retrySchedule('kafkaSource.retry', options.retry),
      target: `kafka source: ${describeBrokers(options)} (${'topics' in selection ? `topics ${selection.topics.join(',')}` : `topics matching ${selection.pattern}`})`,
    }
    if (options.onPartitionsAssigned !== undefined && typeof options.onPartitionsAssigned !== 'function')
      throw new ConfigError('kafkaSource.onPartitionsAssigned', options.onPartitionsAssigned, 'a function')
    this.bounded = stopAt !== undefined
    this.commitsOnCheckpoint = commitOffsets
  }

  /** A kafkajs client for one reader (each reader has its own connections). */
  client(): Kafka {
    return kafkaClient('kafkaSource', this.clientOptions)
  }

  /**
   * The reader of one subtask; `restored` holds every partition's checkpointed offset ('all'), and
   * the reader keeps those of the partitions it owns.
   *
   * @example
   * const reader = source.createReader({ subtask: 0, parallelism: 2, processingTime: systemProcessingTime })
   */
  createReader(context: SourceReaderContext, restored?: KafkaPartitionSplit[]): KafkaSourceReader<T> {
    return new KafkaSourceReader(this.settings, this.client(), context, restored)
  }
}

function deserializerOf<T>(deserializer: KafkaDeserializer<T>): (record: KafkaRecord) => T {
  if (deserializer === 'buffer') return (r) => r as T
  if (deserializer === 'string') return (r) => stringRecord(r) as T
  if (typeof deserializer !== 'function')
    throw new ConfigError(
      'kafkaSource.deserializer',
      deserializer,
      "'buffer' | 'string' | a function (record) => value",
    )
  return deserializer
}

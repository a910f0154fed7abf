import type { KafkaRecord, StringKafkaRecord } from './kafka-record.js'
import type { KafkaSourceOptions } from './options.js'
import { KafkaSink } from './sink.js'
import { KafkaSource } from './source.js'
import { KafkaTransactionalSink, type KafkaTransactionalSinkOptions } from './transactional-sink.js'

export type {
  KafkaDeserializer,
  KafkaHeaders,
  KafkaProducerRecord,
  KafkaRecord,
  StringKafkaRecord,
} from './kafka-record.js'
export { stringRecord } from './kafka-record.js'
export type {
  KafkaConnectionOptions,
  KafkaPartitioner,
  KafkaSinkGuarantee,
  KafkaSinkOptions,
  KafkaSourceOptions,
} from './options.js'
export { listPartitions, partitionOwner, type TopicSelection } from './partition-discovery.js'
export type { KafkaTransactionEvent, KafkaTransactionState } from './kafka-transaction.js'
export { KafkaSink } from './sink.js'
export { KafkaSinkWriter } from './writer.js'
export type { KafkaPartitionSplit } from './options.js'
export { KafkaSource } from './source.js'
export { KafkaTransactionalSink, type KafkaTransactionalSinkOptions } from './transactional-sink.js'
export { KafkaSourceReader } from './reader.js'
export { SplitWatermarks } from '../../time/split-watermarks.js'
export { StartPositions, type StartPosition, type TopicPartition } from './start-position.js'

/**
 * A Kafka source (Flink's KafkaSource): offsets in the checkpoint, per-partition watermarks, partition
 * discovery, bounded buffering. Emits {@link KafkaRecord}s unless a deserializer says otherwise; with
 * `deserializer: 'string'` their key, value and headers are strings.
 *
 * @example
 * env.fromSource(kafkaSource({ brokers: ['localhost:9092'], topics: ['orders'], startFrom: 'earliest' }), { uid: 'orders' })
 */
export function kafkaSource(
  options: KafkaSourceOptions<StringKafkaRecord> & { deserializer: 'string' },
): KafkaSource<StringKafkaRecord>
export function kafkaSource<T = KafkaRecord>(options: KafkaSourceOptions<T>): KafkaSource<T>
export function kafkaSource<T>(options: KafkaSourceOptions<T>): KafkaSource<T> {
  return new KafkaSource<T>(options)
}

/**
 * A Kafka sink: at-least-once by default (flush and wait for acknowledgements on every barrier), or
 * exactly-once in Kafka transactions with `guarantee: 'exactly-once'` and a `transactionalIdPrefix`.
 *
 * @example
 * stream.sinkTo(kafkaSink({ brokers, topic: 'out', guarantee: 'exactly-once', transactionalIdPrefix: 'job-7-out' }), { uid: 'out' })
 */
export function kafkaSink<T>(options: KafkaTransactionalSinkOptions<T>): KafkaSink<T> | KafkaTransactionalSink<T> {
  return options?.guarantee === 'exactly-once' ? new KafkaTransactionalSink<T>(options) : new KafkaSink<T>(options)
}

import type { KinesisRecord, KinesisSinkOptions, KinesisSourceOptions } from './options.js'
import { KinesisSink } from './sink.js'
import { KinesisSource } from './source.js'

export { aggregate, deaggregate, type UserRecord } from './kpl-aggregation.js'
export type {
  KinesisConnectionOptions,
  KinesisDeserializer,
  KinesisPutRecord,
  KinesisRecord,
  KinesisShardSplit,
  KinesisSinkOptions,
  KinesisSourceOptions,
  KinesisStartPosition,
} from './options.js'
export type { ShardPosition } from './shard-fetcher.js'
export { FinishedShards, type ShardFinishRegistry } from './finished-shards.js'
export { parentsOf, shardOwner } from './shard-lineage.js'
export { KinesisSink } from './sink.js'
export { KinesisSinkWriter } from './writer.js'
export { KinesisSource } from './source.js'
export { KinesisSourceReader } from './reader.js'

/**
 * A Kinesis source: sequence numbers in the checkpoint, parents read before children across
 * resharding, per-shard watermarks, throttling backoff, KPL de-aggregation.
 *
 * With `deserializer: 'string'` the records' data is a string.
 *
 * @example
 * env.fromSource(kinesisSource({ stream: 'orders', region: 'eu-west-1', startFrom: 'TRIM_HORIZON' }), { uid: 'orders' })
 */
export function kinesisSource(
  options: KinesisSourceOptions<KinesisRecord<string>> & { deserializer: 'string' },
): KinesisSource<KinesisRecord<string>>
export function kinesisSource<T = KinesisRecord>(options: KinesisSourceOptions<T>): KinesisSource<T>
export function kinesisSource<T>(options: KinesisSourceOptions<T>): KinesisSource<T> {
  return new KinesisSource<T>(options)
}

/**
 * A Kinesis sink (at-least-once): PutRecords batches within the API's limits, failed entries retried.
 *
 * @example
 * stream.sinkTo(kinesisSink({ stream: 'out', region: 'eu-west-1', serializer: (v) => ({ data: JSON.stringify(v), partitionKey: v.id }) }))
 */
export function kinesisSink<T>(options: KinesisSinkOptions<T>): KinesisSink<T> {
  return new KinesisSink<T>(options)
}

import type { KinesisClient, KinesisClientConfig } from '@aws-sdk/client-kinesis'
import type { RetryOptions, RetrySchedule } from '../base/retry-options.js'
import type { WatermarkStrategy } from '../../time/watermark-strategy.js'
import type { ShardFetchSettings, ShardPosition } from './shard-fetcher.js'

/** How the connector reaches Kinesis: a client of your own, or its configuration. */
export interface KinesisConnectionOptions {
  /** A KinesisClient, or its configuration (region, credentials, endpoint). Default: the SDK's defaults. */
  client?: KinesisClient | KinesisClientConfig
  /** Shorthand for `client: { region }`. */
  region?: string
  /**
   * Shorthand for `client: { endpoint }` — e.g. a local kinesalite. A plain `http://` endpoint gets an
   * HTTP/1.1 handler (the SDK's default HTTP/2 fails against plain-HTTP servers).
   */
  endpoint?: string
}

/** Where a shard without a checkpointed position starts. */
export type KinesisStartPosition = 'TRIM_HORIZON' | 'LATEST' | { readonly atTimestamp: number | Date }

/** The record the source hands to its deserializer. */
export interface KinesisRecord<D = Buffer> {
  readonly stream: string
  readonly shardId: string
  readonly sequenceNumber: string
  /** Index of the user record inside a KPL-aggregated record; undefined for an ordinary record. */
  readonly subSequenceNumber: number | undefined
  readonly partitionKey: string
  readonly explicitHashKey: string | undefined
  /** ApproximateArrivalTimestamp in ms: the record's event time unless `watermarks` assigns another. */
  readonly arrivalTimestamp: number
  readonly data: D
}

/**
 * Turns a record into what the source emits: 'buffer' (default), 'string' (UTF-8 data), or a function.
 * A function that throws fails the source with DecodeError 'ERR_DECODE' naming shard and sequence
 * number; for payloads that may be malformed keep a built-in and `decode()` downstream, whose failures
 * go to the dead-letter output.
 */
export type KinesisDeserializer<T> = 'buffer' | 'string' | ((record: KinesisRecord) => T)

/** A shard's state in a checkpoint (version 1): where reading resumes, or that the shard is finished. */
export interface KinesisShardSplit {
  readonly v: 1
  readonly shardId: string
  readonly position: ShardPosition
  readonly finished?: true
}

/** The source's settings after validation. */
export interface KinesisSourceSettings<T> {
  readonly stream: string
  readonly startFrom: 'TRIM_HORIZON' | 'LATEST' | { readonly atTimestamp: number }
  readonly fetch: ShardFetchSettings
  readonly discoveryIntervalMs: number
  readonly maxBufferedRecords: number
  readonly deserialize: (record: KinesisRecord) => T
  readonly watermarks: WatermarkStrategy<T> | undefined
  readonly watermarkIntervalMs: number
  readonly retry: RetrySchedule
  /** What the source reads, for errors: 'kinesis source: stream orders at http://…'. */
  readonly target: string
}

/** Options of {@link KinesisSource} (Flink's FlinkKinesisConsumer / KinesisStreamsSource). */
export interface KinesisSourceOptions<T> extends KinesisConnectionOptions {
  /** The stream's name. */
  stream: string
  /** Where shards without a checkpointed position start; default 'LATEST' (as Flink's consumer). */
  startFrom?: KinesisStartPosition
  /** Wait between GetRecords calls of one shard (Kinesis allows 5 per second per shard); default 200 ms. */
  pollIntervalMs?: number
  /** Records per GetRecords call (1..10,000); default 10,000. */
  recordsPerFetch?: number
  /** Look for new shards (resharding) this often; default 10,000 ms. */
  shardDiscoveryIntervalMs?: number
  /** Records fetched and not yet emitted before fetching pauses; default 10,000. */
  maxBufferedRecords?: number
  /** Throttled (ProvisionedThroughputExceeded) calls back off from this delay, doubling; default 200 ms. */
  throttleBackoffMs?: number
  /** Ceiling of the throttling backoff; default 5,000 ms. */
  maxThrottleBackoffMs?: number
  /** Other failed calls in a row before the source fails; default 10. */
  maxRetries?: number
  deserializer?: KinesisDeserializer<T>
  /** Per-shard watermarks: one generator per shard, the source's watermark is their minimum. */
  watermarks?: WatermarkStrategy<T>
  /** How often the per-shard generators emit; default 200 ms. */
  watermarkIntervalMs?: number
  /** Connecting at start (the first ListShards); after these retries the source fails with ConnectorError 'ERR_CONNECT'. */
  retry?: RetryOptions
}

/** What the sink's serializer returns for one value (a PutRecords entry). */
export interface KinesisPutRecord {
  readonly data: Uint8Array | string
  readonly partitionKey: string
  /** Overrides the hash of the partition key: chooses the shard directly. */
  readonly explicitHashKey?: string
}

/** Options of {@link KinesisSink} (Flink's KinesisStreamsSink). */
export interface KinesisSinkOptions<T> extends KinesisConnectionOptions {
  stream: string
  /** Data, partition key and optional explicit hash key of a value. */
  serializer: (value: T) => KinesisPutRecord
  /** Records per PutRecords request, at most 500 (the API's limit); default 500. */
  maxBatchRecords?: number
  /** Bytes per PutRecords request, at most 5 MiB (the API's limit); default 5 MiB. */
  maxBatchBytes?: number
  /** How long a partial batch waits for more records; default 10 ms. */
  lingerMs?: number
  /** Records written and not yet accepted before the writer stops taking more; default 10,000. */
  maxInFlightRecords?: number
  /**
   * Retries of a failed entry (or request) before the job fails; default
   * { maxRetries: 10, initialDelayMs: 100, maxDelayMs: 5,000, multiplier: 2, jitter: 0.2 }.
   */
  retry?: RetryOptions
  /** @deprecated use `retry.maxRetries` (read as it, with a warning, for this release) */
  maxRetries?: number
  /** @deprecated use `retry.initialDelayMs` (read as it, with a warning, for this release) */
  retryBackoffMs?: number
  /** @deprecated use `retry.maxDelayMs` (read as it, with a warning, for this release) */
  maxRetryBackoffMs?: number
}

/** The sink's settings after validation. */
export interface KinesisSinkSettings {
  readonly stream: string
  readonly maxBatchRecords: number
  readonly maxBatchBytes: number
  readonly lingerMs: number
  readonly maxInFlightRecords: number
  readonly retry: RetrySchedule
}

/** The keys of {@link KinesisConnectionOptions}. */
export const KINESIS_CONNECTION_KEYS = ['client', 'region', 'endpoint'] as const satisfies ReadonlyArray<
  keyof KinesisConnectionOptions
>

/** The keys of {@link KinesisSourceOptions}: any other key is refused. */
export const KINESIS_SOURCE_KEYS = [
  ...KINESIS_CONNECTION_KEYS,
  'stream',
  'startFrom',
  'pollIntervalMs',
  'recordsPerFetch',
  'shardDiscoveryIntervalMs',
  'maxBufferedRecords',
  'throttleBackoffMs',
  'maxThrottleBackoffMs',
  'maxRetries',
  'deserializer',
  'watermarks',
  'watermarkIntervalMs',
  'retry',
] as const satisfies ReadonlyArray<keyof KinesisSourceOptions<unknown>>

/** The keys of {@link KinesisSinkOptions}: any other key is refused. */
export const KINESIS_SINK_KEYS = [
  ...KINESIS_CONNECTION_KEYS,
  'stream',
  'serializer',
  'maxBatchRecords',
  'maxBatchBytes',
  'lingerMs',
  'maxInFlightRecords',
  'retry',
  'maxRetries',
  'retryBackoffMs',
  'maxRetryBackoffMs',
] as const satisfies ReadonlyArray<keyof KinesisSinkOptions<unknown>>

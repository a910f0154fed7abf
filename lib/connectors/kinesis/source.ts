import type { MessagePort } from 'node:worker_threads'
import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { ConfigError } from '../../errors.js'
import type { Source, SourceReaderContext } from '../../runtime/source.js'
import type { ThreadBridged } from '../../runtime/thread-bridged.js'
import { validateWatermarkStrategy } from '../../time/watermark-strategy.js'
import { nonEmptyString, optionsObject, wholeNumber } from '../../util/options.js'
import { retrySchedule } from '../base/retry-options.js'
import { describeEndpoint, kinesisClient } from './connection.js'
import {
  KINESIS_SOURCE_KEYS,
  type KinesisRecord,
  type KinesisShardSplit,
  type KinesisSourceOptions,
  type KinesisSourceSettings,
} from './options.js'
import { FinishedShards } from './finished-shards.js'
import { FinishedShardsCoordinator, RemoteFinishedShards } from './finished-shards-bridge.js'
import { KinesisSourceReader } from './reader.js'

/**
 * Reads a Kinesis data stream (Flink's Kinesis consumer). Each subtask reads the shards whose starting
 * hash key falls in its slice of the hash key space, polling GetRecords every `pollIntervalMs` for up
 * to `recordsPerFetch` records, with a bounded buffer: a shard's polling waits while
 * `maxBufferedRecords` records wait for downstream. Throttling backs off exponentially.
 *
 * **Sequence numbers are in the checkpoint**: each shard's last emitted sequence number (and
 * sub-sequence number inside a KPL aggregate), so a restored job reads on right after it.
 *
 * **Resharding**: shards are discovered every `shardDiscoveryIntervalMs`. A child shard (of a split
 * or a merge) is read only after all its parents have been read to their end and their records
 * emitted — also when a parent belongs to another subtask (see {@link FinishedShards}) — so the records
 * of one partition key leave the source in order. With checkpointing, a reader tells the other subtasks
 * that it finished a shard once a checkpoint that records it completed, so no checkpoint holds a
 * child's records without its parents' end. Shards found after the start are read from TRIM_HORIZON,
 * so none of their records is missed.
 *
 * **On the worker executor** the finished shards are the coordinator's (the source is
 * {@link ThreadBridged}): each reader reports through its subtask's port, and hears of every other
 * reader's ({@link FinishedShardsCoordinator}).
 *
 * Records carry their ApproximateArrivalTimestamp as event time; with `watermarks` each shard has its
 * own generator and the source emits the minimum over the shards that are not idle. KPL-aggregated
 * records are split into their user records.
 *
 * Guarantee: exactly-once with checkpoints and an exactly-once sink.
 *
 * @example
 * env.fromSource(kinesisSource({ stream: 'orders', region: 'eu-west-1', startFrom: 'TRIM_HORIZON', deserializer: 'string' }), { uid: 'orders' })
 */
export class KinesisSource<T = KinesisRecord> implements Source<T, KinesisShardSplit>, ThreadBridged {
  readonly name = 'kinesis'
  readonly bounded = false
  readonly restoredSplits = 'all' as const
  readonly settings: KinesisSourceSettings<T>
  /** Which shards the readers of this source on this thread have finished (on the coordinator: the job's). */
  readonly finishedShards = new FinishedShards()
  private readonly options: KinesisSourceOptions<T>
  private coordinator: FinishedShardsCoordinator | undefined
  /** In a worker: the coordinator's finished shards, by subtask. */
  private readonly remotes = new Map<number, RemoteFinishedShards>()
  private sharedClient: KinesisClient | undefined

  constructor(options: KinesisSourceOptions<T>) {
    options = optionsObject('kinesisSource', options, KINESIS_SOURCE_KEYS)
    this.options = options
    kinesisClient('kinesisSource', options)
    const { startFrom = 'LATEST', deserializer = 'buffer', watermarks } = options
    let start: KinesisSourceSettings<T>['startFrom']
    if (startFrom === 'LATEST' || startFrom === 'TRIM_HORIZON') start = startFrom
    else if (startFrom !== null && typeof startFrom === 'object' && 'atTimestamp' in startFrom) {
      const t = startFrom.atTimestamp instanceof Date ? startFrom.atTimestamp.getTime() : startFrom.atTimestamp
      if (typeof t !== 'number' || !Number.isFinite(t))
        throw new ConfigError(
          'kinesisSource.startFrom.atTimestamp',
          startFrom.atTimestamp,
          'a Date or ms since the epoch',
        )
      start = { atTimestamp: t }
    } else throw new ConfigError('kinesisSource.startFrom', startFrom, "'TRIM_HORIZON' | 'LATEST' | { atTimestamp }")
    let deserialize: (record: KinesisRecord) => T
    if (deserializer === 'buffer') deserialize = (r) => r as T
    else if (deserializer === 'string') deserialize = (r) => ({ ...r, data: r.data.toString('utf8') }) as T
    else if (typeof deserializer === 'function') deserialize = deserializer
    else
      throw new ConfigError(
        'kinesisSource.deserializer',
        deserializer,
        "'buffer' | 'string' | a function (record) => value",
      )
    if (watermarks !== undefined) validateWatermarkStrategy('kinesisSource.watermarks', watermarks)
    const throttleBackoffMs = wholeNumber('kinesisSource.throttleBackoffMs', options.throttleBackoffMs, 200, 1)
    this.settings = {
      stream: nonEmptyString('kinesisSource.stream', options.stream),
      startFrom: start,
      fetch: {
        pollIntervalMs: wholeNumber('kinesisSource.pollIntervalMs', options.pollIntervalMs, 200, 0),
        recordsPerFetch: wholeNumber('kinesisSource.recordsPerFetch', options.recordsPerFetch, 10_000, 1, 10_000),
        throttleBackoffMs,
        maxThrottleBackoffMs: wholeNumber(
          'kinesisSource.maxThrottleBackoffMs',
          options.maxThrottleBackoffMs,
          5_000,
          throttleBackoffMs,
        ),
        maxRetries: wholeNumber('kinesisSource.maxRetries', options.maxRetries, 10, 0),
      },
      discoveryIntervalMs: wholeNumber(
        'kinesisSource.shardDiscoveryIntervalMs',
        options.shardDiscoveryIntervalMs,
        10_000,
        1,
      ),
      maxBufferedRecords: wholeNumber('kinesisSource.maxBufferedRecords', options.maxBufferedRecords, 10_000, 1),
      deserialize,
      watermarks,
      watermarkIntervalMs: wholeNumber('kinesisSource.watermarkIntervalMs', options.watermarkIntervalMs, 200, 1),
      retry: retrySchedule('kinesisSource.retry', options.retry),
      target: `kinesis source: stream ${options.stream} at ${describeEndpoint(options)}`,
    }
  }

  /** The client the readers share (the SDK client pools its connections). */
  client(): KinesisClient {
    this.sharedClient ??= kinesisClient('kinesisSource', this.options)
    return this.sharedClient
  }

  /**
   * The reader of one subtask; `restored` holds every shard's checkpointed state ('all').
   *
   * @example
   * const reader = source.createReader({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createReader(context: SourceReaderContext, restored?: KinesisShardSplit[]): KinesisSourceReader<T> {
    const registry = this.remotes.get(context.subtask) ?? this.finishedShards
    return new KinesisSourceReader(this.settings, this.client(), registry, context, restored)
  }

  /**
   * On the coordinating thread of the worker executor: the reader of `subtask`, in a worker, reports the
   * shards it finished through `port` and hears of the others'.
   *
   * @example
   * source.serveBridge(0, 2, port1)
   */
  serveBridge(subtask: number, _parallelism: number, port: MessagePort): void {
    this.coordinator ??= new FinishedShardsCoordinator(this.finishedShards)
    this.coordinator.serve(subtask, port)
  }

  /**
   * In a worker, before the subtask starts: the reader of `subtask` shares finished shards through the
   * coordinator, at `port`.
   *
   * @example
   * source.useBridge(0, port2)
   */
  useBridge(subtask: number, port: MessagePort): void {
    this.remotes.set(subtask, new RemoteFinishedShards(port))
  }
}

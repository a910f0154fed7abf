import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { ConfigError } from '../../errors.js'
import type { Sink, SinkWriterContext } from '../../runtime/sink.js'
import { nestedOrFlatRetry } from '../base/retry-options.js'
import { nonEmptyString, optionsObject, wholeNumber } from '../../util/options.js'
import { kinesisClient } from './connection.js'
import { KINESIS_SINK_KEYS, type KinesisSinkOptions, type KinesisSinkSettings } from './options.js'
import { KinesisSinkWriter, MAX_RECORDS, MAX_REQUEST_BYTES } from './writer.js'

/** The flat names of the release before, each with its key in `retry`. */
const FLAT_RETRY_NAMES = {
  maxRetries: 'maxRetries',
  retryBackoffMs: 'initialDelayMs',
  maxRetryBackoffMs: 'maxDelayMs',
} as const

/**
 * Writes records to a Kinesis data stream with PutRecords (Flink's KinesisStreamsSink). Records are
 * batched within the API's limits (500 records, 5 MiB per request; `maxBatchRecords`,
 * `maxBatchBytes`, `lingerMs`) and sent one request at a time. The entries of a partial failure
 * (FailedRecordCount > 0: throttling, internal failures) are sent again with exponential backoff, the
 * others are done; after `maxRetries` the job fails. While `maxInFlightRecords` records wait to be
 * accepted the writer takes no more.
 *
 * Guarantee: at-least-once. Every checkpoint barrier waits until Kinesis accepted every record
 * written before it; records after the checkpoint may be written again by a restored job. Order: a
 * retried entry is written after the entries that followed it in its batch.
 *
 * @example
 * stream.sinkTo(kinesisSink({ stream: 'events', region: 'eu-west-1', serializer: (e) => ({ data: JSON.stringify(e), partitionKey: e.userId }) }))
 */
export class KinesisSink<T> implements Sink<T> {
  readonly name = 'kinesis'
  readonly guarantee = 'at-least-once' as const
  readonly settings: KinesisSinkSettings
  readonly serializer: KinesisSinkOptions<T>['serializer']
  private readonly options: KinesisSinkOptions<T>
  private sharedClient: KinesisClient | undefined

  constructor(options: KinesisSinkOptions<T>) {
    options = optionsObject('kinesisSink', options, KINESIS_SINK_KEYS)
    kinesisClient('kinesisSink', options)
    if (typeof options.serializer !== 'function')
      throw new ConfigError(
        'kinesisSink.serializer',
        options.serializer,
        'a function value → { data, partitionKey, explicitHashKey? }',
      )
    this.settings = {
      stream: nonEmptyString('kinesisSink.stream', options.stream),
      maxBatchRecords: wholeNumber('kinesisSink.maxBatchRecords', options.maxBatchRecords, MAX_RECORDS, 1, MAX_RECORDS),
      maxBatchBytes: wholeNumber(
        'kinesisSink.maxBatchBytes',
        options.maxBatchBytes,
        MAX_REQUEST_BYTES,
        1,
        MAX_REQUEST_BYTES,
      ),
      lingerMs: wholeNumber('kinesisSink.lingerMs', options.lingerMs, 10, 0),
      maxInFlightRecords: wholeNumber('kinesisSink.maxInFlightRecords', options.maxInFlightRecords, 10_000, 1),
      retry: nestedOrFlatRetry('kinesisSink', options, FLAT_RETRY_NAMES, {
        maxRetries: 10,
        initialDelayMs: 100,
        maxDelayMs: 5_000,
        jitter: 0.2,
      }),
    }
    this.serializer = options.serializer
    this.options = options
  }

  client(): KinesisClient {
    this.sharedClient ??= kinesisClient('kinesisSink', this.options)
    return this.sharedClient
  }

  createWriter(context: SinkWriterContext): KinesisSinkWriter<T> {
    return new KinesisSinkWriter(this.settings, this.serializer, this.client(), context)
  }
}

import type { KinesisClient, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis'
import { backoffDelay } from '../../util/backoff.js'
import { ConfigError, ConnectorError, describeValue, messageOf } from '../../errors.js'
import type { Sink, SinkWriter, SinkWriterContext } from '../../runtime/sink.js'
import { optionalDependency } from '../../util/optional-dependency.js'
import { kinesisClient, type KinesisSinkOptions, requireName, wholeNumber } from './options.js'

const kinesis = await optionalDependency<typeof import('@aws-sdk/client-kinesis')>('@aws-sdk/client-kinesis')

/** The API's limits: 500 records and 5 MiB per PutRecords, 1 MiB per record (data + partition key), keys ≤ 256 characters. */
const MAX_RECORDS = 500
const MAX_REQUEST_BYTES = 5 * 1024 * 1024
const MAX_RECORD_BYTES = 1024 * 1024
const MAX_KEY_LENGTH = 256

interface Settings {
  readonly stream: string
  readonly maxBatchRecords: number
  readonly maxBatchBytes: number
  readonly lingerMs: number
  readonly maxInFlightRecords: number
  readonly maxRetries: number
  readonly retryBackoffMs: number
  readonly maxRetryBackoffMs: number
}

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
  readonly settings: Settings
  readonly serializer: KinesisSinkOptions<T>['serializer']
  private readonly options: KinesisSinkOptions<T>
  private sharedClient: KinesisClient | undefined

  constructor(options: KinesisSinkOptions<T>) {
    if (options === null || typeof options !== 'object')
      throw new ConfigError('kinesisSink options', options, 'an options object')
    kinesisClient('kinesisSink', options)
    if (typeof options.serializer !== 'function')
      throw new ConfigError(
        'kinesisSink.serializer',
        options.serializer,
        'a function value → { data, partitionKey, explicitHashKey? }',
      )
    const retryBackoffMs = wholeNumber('kinesisSink.retryBackoffMs', options.retryBackoffMs ?? 100, 0)
    this.settings = {
      stream: requireName('kinesisSink.stream', options.stream),
      maxBatchRecords: wholeNumber(
        'kinesisSink.maxBatchRecords',
        options.maxBatchRecords ?? MAX_RECORDS,
        1,
        MAX_RECORDS,
      ),
      maxBatchBytes: wholeNumber(
        'kinesisSink.maxBatchBytes',
        options.maxBatchBytes ?? MAX_REQUEST_BYTES,
        1,
        MAX_REQUEST_BYTES,
      ),
      lingerMs: wholeNumber('kinesisSink.lingerMs', options.lingerMs ?? 10, 0),
      maxInFlightRecords: wholeNumber('kinesisSink.maxInFlightRecords', options.maxInFlightRecords ?? 10_000, 1),
      maxRetries: wholeNumber('kinesisSink.maxRetries', options.maxRetries ?? 10, 0),
      retryBackoffMs,
      maxRetryBackoffMs: wholeNumber(
        'kinesisSink.maxRetryBackoffMs',
        options.maxRetryBackoffMs ?? 5_000,
        retryBackoffMs,
      ),
    }
    this.serializer = options.serializer
    this.options = options
  }

  client(): KinesisClient {
    this.sharedClient ??= kinesisClient('kinesisSink', this.options)
    return this.sharedClient
  }

  createWriter(context: SinkWriterContext): KinesisSinkWriter<T> {
    return new KinesisSinkWriter(this, context)
  }
}

interface Entry {
  readonly request: PutRecordsRequestEntry
  readonly bytes: number
  attempts: number
}

/**
 * The writer of {@link KinesisSink}. `requests`, `retriedEntries` and `inFlightRecords` let a caller watch it.
 *
 * @example
 * const writer = kinesisSink({ stream: 's', endpoint, serializer }).createWriter(context)
 */
export class KinesisSinkWriter<T> implements SinkWriter<T> {
  private readonly client: KinesisClient
  private buffer: Entry[] = []
  private bufferBytes = 0
  private chain: Promise<void> = Promise.resolve()
  private linger: NodeJS.Timeout | undefined
  private failure: Error | undefined
  private waiting: { promise: Promise<void>; resolve: () => void } | undefined
  /** Records written and not yet accepted by Kinesis. */
  inFlightRecords = 0
  /** PutRecords requests sent. */
  requests = 0
  /** Entries sent again after a partial failure. */
  retriedEntries = 0

  constructor(
    private readonly sink: KinesisSink<T>,
    private readonly context: SinkWriterContext,
  ) {
    this.client = sink.client()
  }

  write(value: T, _timestamp: number | undefined): void {
    const record = this.sink.serializer(value)
    const data = typeof record?.data === 'string' ? Buffer.from(record.data, 'utf8') : record?.data
    if (
      !(data instanceof Uint8Array) ||
      typeof record.partitionKey !== 'string' ||
      record.partitionKey === '' ||
      record.partitionKey.length > MAX_KEY_LENGTH
    ) {
      throw new TypeError(
        `kinesis sink serializer returned ${describeValue(record)} for ${describeValue(value)}: expected { data: string | bytes, partitionKey: 1..256 characters, explicitHashKey? }`,
      )
    }
    const bytes = data.length + Buffer.byteLength(record.partitionKey, 'utf8')
    if (bytes > MAX_RECORD_BYTES)
      throw new ConnectorError(
        'ERR_RECORD_TOO_LARGE',
        `kinesis sink: a record of ${bytes} bytes (data + partition key) exceeds Kinesis's 1 MiB limit: ${describeValue(value)}`,
      )
    if (this.bufferBytes + bytes > this.sink.settings.maxBatchBytes) this.send()
    this.buffer.push({
      request: { Data: data, PartitionKey: record.partitionKey, ExplicitHashKey: record.explicitHashKey },
      bytes,
      attempts: 0,
    })
    this.bufferBytes += bytes
    this.inFlightRecords++
    if (this.buffer.length >= this.sink.settings.maxBatchRecords) this.send()
    else if (this.linger === undefined) this.linger = setTimeout(() => this.send(), this.sink.settings.lingerMs)
  }

  ready(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.inFlightRecords < this.sink.settings.maxInFlightRecords) return undefined
    this.send()
    if (this.waiting === undefined) {
      let resolve!: () => void
      const promise = new Promise<void>((r) => (resolve = r))
      this.waiting = { promise, resolve }
    }
    return this.waiting.promise
  }

  async flush(): Promise<void> {
    this.send()
    await this.chain
    if (this.failure !== undefined) throw this.failure
  }

  /** The barrier: every record written before it is accepted by Kinesis (at-least-once). */
  async snapshotState(): Promise<unknown[]> {
    await this.flush()
    return []
  }

  async close(): Promise<void> {
    clearTimeout(this.linger)
    await this.chain.catch(() => undefined)
  }

  private send(): void {
    clearTimeout(this.linger)
    this.linger = undefined
    if (this.buffer.length === 0 || this.failure !== undefined) return
    const batch = this.buffer
    this.buffer = []
    this.bufferBytes = 0
    this.chain = this.chain.then(() => this.put(batch)).catch((error) => this.failed(error))
  }

  /** Sends `entries` until all are accepted, retrying the failed ones of each answer. */
  private async put(entries: Entry[]): Promise<void> {
    let pending = entries
    let round = 0
    while (pending.length > 0 && this.failure === undefined) {
      if (round > 0)
        await new Promise((r) =>
          setTimeout(
            r,
            backoffDelay(round - 1, {
              initialDelayMs: this.sink.settings.retryBackoffMs,
              maxDelayMs: this.sink.settings.maxRetryBackoffMs,
              jitter: 0.2,
            }),
          ),
        )
      round++
      let failed: Entry[]
      let reason: string
      try {
        this.requests++
        const answer = await this.client.send(
          new (kinesis.get('kinesisSink').PutRecordsCommand)({
            StreamName: this.sink.settings.stream,
            Records: pending.map((e) => e.request),
          }),
        )
        const results = answer.Records ?? []
        failed = answer.FailedRecordCount ? pending.filter((_, i) => results[i]?.ErrorCode !== undefined) : []
        reason =
          failed.length > 0
            ? `${results.find((r) => r.ErrorCode)?.ErrorCode}: ${results.find((r) => r.ErrorCode)?.ErrorMessage}`
            : ''
      } catch (error) {
        // The whole request failed (throttled, network): every entry is sent again.
        failed = pending
        reason = messageOf(error)
      }
      this.accepted(pending.length - failed.length)
      for (const e of failed) {
        if (++e.attempts > this.sink.settings.maxRetries) {
          throw new ConnectorError(
            'ERR_SEND',
            `kinesis sink (subtask ${this.context.subtask}): ${failed.length} record(s) not accepted after ${this.sink.settings.maxRetries} retries: ${reason}`,
            { retriable: true },
          )
        }
      }
      this.retriedEntries += failed.length
      pending = failed
    }
  }

  private accepted(n: number): void {
    this.inFlightRecords -= n
    if (this.waiting !== undefined && this.inFlightRecords <= this.sink.settings.maxInFlightRecords >> 1) {
      this.waiting.resolve()
      this.waiting = undefined
    }
  }

  private failed(error: unknown): void {
    if (this.failure !== undefined) return
    this.failure = error instanceof Error ? error : new ConnectorError('ERR_SEND', messageOf(error))
    this.waiting?.resolve()
    this.waiting = undefined
  }
}

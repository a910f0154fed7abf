import type { KinesisClient, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis'
import { optionalDependency } from '../../util/optional-dependency.js'
import { backoffDelay } from '../../util/backoff.js'
import { ConnectorError, describeValue, messageOf } from '../../errors.js'
import type { Counter } from '../../runtime/metric-group.js'
import type { SinkWriterContext } from '../../runtime/sink.js'
import { BatchingWriter } from '../base/batching-writer.js'
import type { KinesisPutRecord, KinesisSinkSettings } from './options.js'

const kinesis = await optionalDependency<typeof import('@aws-sdk/client-kinesis')>('@aws-sdk/client-kinesis')

/** The API's limits: 500 records and 5 MiB per PutRecords, 1 MiB per record (data + partition key), keys ≤ 256 characters. */
export const MAX_RECORDS = 500
export const MAX_REQUEST_BYTES = 5 * 1024 * 1024
const MAX_RECORD_BYTES = 1024 * 1024
const MAX_KEY_LENGTH = 256

interface Entry {
  readonly request: PutRecordsRequestEntry
  readonly bytes: number
  attempts: number
}

/**
 * The writer of a Kinesis sink: PutRecords batches within the API's limits on {@link BatchingWriter},
 * the failed entries of each answer sent again with backoff (counted in `retriedEntries`).
 *
 * @example
 * const writer = kinesisSink({ stream: 's', endpoint, serializer }).createWriter(context)
 */
export class KinesisSinkWriter<T> extends BatchingWriter<T, Entry[]> {
  private buffer: Entry[] = []
  private bufferBytes = 0
  /** Entries sent again after a partial failure. */
  private readonly retriedEntries: Counter

  constructor(
    private readonly settings: KinesisSinkSettings,
    private readonly serializer: (value: T) => KinesisPutRecord,
    private readonly client: KinesisClient,
    context: SinkWriterContext,
  ) {
    super(context, {
      connector: 'kinesis-sink',
      maxBatchRecords: settings.maxBatchRecords,
      lingerMs: settings.lingerMs,
      maxInFlightRecords: settings.maxInFlightRecords,
      flushOnBarrier: true,
    })
    this.retriedEntries = this.metrics.counter('retriedEntries')
  }

  protected addToBatch(value: T): void {
    const record = this.serializer(value)
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
    if (this.bufferBytes + bytes > this.settings.maxBatchBytes) this.send()
    this.buffer.push({
      request: { Data: data, PartitionKey: record.partitionKey, ExplicitHashKey: record.explicitHashKey },
      bytes,
      attempts: 0,
    })
    this.bufferBytes += bytes
  }

  protected takeBatch(): Entry[] {
    const batch = this.buffer
    this.buffer = []
    this.bufferBytes = 0
    return batch
  }

  /** Sends `entries` until all are accepted, retrying the failed ones of each answer. */
  protected async sendBatch(entries: Entry[], _count: number, acknowledgeEarly: (n: number) => void): Promise<void> {
    let pending = entries
    let round = 0
    while (pending.length > 0 && this.failure === undefined) {
      if (round > 0) await this.sleep(round - 1)
      round++
      let failed: Entry[]
      let reason: string
      try {
        this.requests.inc()
        const answer = await this.client.send(
          new (kinesis.get('kinesisSink').PutRecordsCommand)({
            StreamName: this.settings.stream,
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
      acknowledgeEarly(pending.length - failed.length)
      for (const e of failed) {
        if (++e.attempts > this.settings.retry.maxRetries) {
          throw new ConnectorError(
            'ERR_SEND',
            `kinesis sink (subtask ${this.context.subtask}): ${failed.length} record(s) not accepted after ${this.settings.retry.maxRetries} retries: ${reason}`,
            { retriable: true },
          )
        }
      }
      this.retriedEntries.inc(failed.length)
      pending = failed
    }
  }

  protected toFailure(error: unknown): Error {
    return error instanceof Error ? error : new ConnectorError('ERR_SEND', messageOf(error))
  }

  /**
   * A plain timer, not the processing-time service: a barrier may wait for this retry, and the
   * subtask's mailbox, which delivers processing-time callbacks, is not to be relied on until it settles
   * (nor at all once the deployment is cancelled, when close() still waits for the request).
   */
  private sleep(attempt: number): Promise<void> {
    const delay = backoffDelay(attempt, this.settings.retry)
    return new Promise((resolve) => setTimeout(resolve, delay))
  }
}

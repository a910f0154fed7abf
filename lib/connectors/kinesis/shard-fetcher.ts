import type { KinesisClient, _Record } from '@aws-sdk/client-kinesis'
import { backoffDelay } from '../../util/backoff.js'
import { ConnectorError, messageOf } from '../../errors.js'
import { optionalDependency } from '../../util/optional-dependency.js'
import { Deferred } from '../../util/deferred.js'
import { deaggregate } from './kpl-aggregation.js'

const kinesis = await optionalDependency<typeof import('@aws-sdk/client-kinesis')>('@aws-sdk/client-kinesis')

/** Where reading a shard starts (or resumes). */
export type ShardPosition =
  | { readonly kind: 'trim-horizon' }
  /** The tip of the shard when it was first assigned (`since`); a restore resumes AT_TIMESTAMP `since`. */
  | { readonly kind: 'latest'; readonly since: number }
  | { readonly kind: 'at-timestamp'; readonly timestamp: number }
  /** After the record emitted last; with `subSequenceNumber`, after that user record of a KPL-aggregated one. */
  | { readonly kind: 'after'; readonly sequenceNumber: string; readonly subSequenceNumber?: number }

/** One user record as fetched: a plain Kinesis record, or one record of a KPL aggregate. */
export interface FetchedRecord {
  readonly sequenceNumber: string
  readonly subSequenceNumber: number | undefined
  readonly partitionKey: string
  readonly explicitHashKey: string | undefined
  readonly arrivalTimestamp: number
  readonly data: Buffer
}

/** Fetch settings, validated by the source. */
export interface ShardFetchSettings {
  readonly pollIntervalMs: number
  readonly recordsPerFetch: number
  readonly throttleBackoffMs: number
  readonly maxThrottleBackoffMs: number
  readonly maxRetries: number
}

/** What a fetcher tells its reader. */
export interface ShardListener {
  onRecords(records: FetchedRecord[]): void
  /** The shard is closed (resharded) and every record of it was delivered. */
  onEnd(): void
  onFailure(error: ConnectorError): void
  /** Whether the reader has room for another GetRecords answer. */
  hasRoom(): boolean
}

const THROTTLED = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'KMSThrottlingException',
  'ThrottlingException',
])

/**
 * Reads one shard: GetShardIterator, then GetRecords every `pollIntervalMs` while the reader has room,
 * following NextShardIterator until the shard ends. Throttled calls (ProvisionedThroughputExceeded,
 * LimitExceeded) back off exponentially, without limit — throttling is the stream's normal answer to
 * too many readers; an expired iterator is renewed after the last record fetched; other failures are
 * retried `maxRetries` times in a row with backoff, then the reader is told to fail. KPL-aggregated
 * records are split into their user records.
 *
 * @example
 * const fetcher = new ShardFetcher(client, 'orders', 'shardId-000000000001', { kind: 'trim-horizon' }, settings, listener)
 * fetcher.start()
 */
export class ShardFetcher {
  private closed = false
  private lastFetched: string | undefined
  private skip: { sequenceNumber: string; subSequenceNumber: number } | undefined
  private cancelSleep: (() => void) | undefined
  private roomWaiter: Deferred | undefined
  /** Calls answered with throttling. */
  throttled = 0
  /** GetRecords calls made. */
  calls = 0

  constructor(
    private readonly client: KinesisClient,
    private readonly stream: string,
    readonly shardId: string,
    private readonly position: ShardPosition,
    private readonly settings: ShardFetchSettings,
    private readonly listener: ShardListener,
  ) {
    // Resuming inside a KPL aggregate: read it again from its sequence number and skip what was emitted.
    if (position.kind === 'after' && position.subSequenceNumber !== undefined)
      this.skip = { sequenceNumber: position.sequenceNumber, subSequenceNumber: position.subSequenceNumber }
  }

  start(): void {
    this.run().catch((error) => {
      if (!this.closed)
        this.listener.onFailure(
          error instanceof ConnectorError
            ? error
            : new ConnectorError('ERR_FETCH', `kinesis ${this.stream}/${this.shardId}: ${messageOf(error)}`, {
                cause: error,
                retriable: true,
              }),
        )
    })
  }

  /** The reader has room again. */
  wake(): void {
    this.roomWaiter?.resolve()
    this.roomWaiter = undefined
  }

  close(): void {
    this.closed = true
    this.cancelSleep?.()
    this.wake()
  }

  private async run(): Promise<void> {
    let iterator = await this.call(() => this.iterator(this.position))
    while (!this.closed && iterator !== undefined) {
      if (!this.listener.hasRoom()) {
        await (this.roomWaiter = new Deferred()).promise
        continue
      }
      const current: string = iterator
      let answer
      try {
        answer = await this.call(() => {
          this.calls++
          return this.client.send(
            new (kinesis.get('kinesisSource').GetRecordsCommand)({
              ShardIterator: current,
              Limit: this.settings.recordsPerFetch,
            }),
          )
        })
      } catch (error) {
        if ((error as { name?: string }).name !== 'ExpiredIteratorException') throw error
        const resume: ShardPosition =
          this.lastFetched === undefined ? this.position : { kind: 'after', sequenceNumber: this.lastFetched }
        iterator = await this.call(() => this.iterator(resume))
        continue
      }
      if (this.closed) return
      const records = this.expand(answer.Records ?? [])
      if (records.length > 0) this.listener.onRecords(records)
      iterator = answer.NextShardIterator ?? undefined
      if (iterator === undefined) {
        this.listener.onEnd()
        return
      }
      await this.sleep(this.settings.pollIntervalMs)
    }
  }

  private async iterator(position: ShardPosition): Promise<string | undefined> {
    const base = { StreamName: this.stream, ShardId: this.shardId }
    const input =
      position.kind === 'trim-horizon'
        ? { ...base, ShardIteratorType: 'TRIM_HORIZON' as const }
        : position.kind === 'latest'
          ? { ...base, ShardIteratorType: 'LATEST' as const }
          : position.kind === 'at-timestamp'
            ? { ...base, ShardIteratorType: 'AT_TIMESTAMP' as const, Timestamp: new Date(position.timestamp) }
            : position.subSequenceNumber !== undefined
              ? {
                  ...base,
                  ShardIteratorType: 'AT_SEQUENCE_NUMBER' as const,
                  StartingSequenceNumber: position.sequenceNumber,
                }
              : {
                  ...base,
                  ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const,
                  StartingSequenceNumber: position.sequenceNumber,
                }
    return (
      (await this.client.send(new (kinesis.get('kinesisSource').GetShardIteratorCommand)(input))).ShardIterator ??
      undefined
    )
  }

  /** Runs `request`, backing off on throttling (without limit) and on other failures (`maxRetries` times). */
  private async call<R>(request: () => Promise<R>): Promise<R> {
    let throttles = 0
    let failures = 0
    for (;;) {
      try {
        return await request()
      } catch (error) {
        if (this.closed) throw error
        const name = (error as { name?: string }).name ?? ''
        if (name === 'ExpiredIteratorException') throw error
        if (THROTTLED.has(name)) {
          this.throttled++
          await this.sleep(
            backoffDelay(throttles++, {
              initialDelayMs: this.settings.throttleBackoffMs,
              maxDelayMs: this.settings.maxThrottleBackoffMs,
              jitter: 0.2,
            }),
          )
          continue
        }
        if (++failures > this.settings.maxRetries) {
          throw new ConnectorError(
            'ERR_FETCH',
            `kinesis ${this.stream}/${this.shardId}: ${failures} failed calls in a row: ${messageOf(error)}`,
            { cause: error, retriable: true },
          )
        }
        await this.sleep(backoffDelay(failures - 1, { initialDelayMs: 50, maxDelayMs: 5_000 }))
      }
    }
  }

  /** User records of the answer, aggregates split, those up to a restored sub-sequence skipped. */
  private expand(records: _Record[]): FetchedRecord[] {
    const result: FetchedRecord[] = []
    for (const r of records) {
      const sequenceNumber = r.SequenceNumber!
      const arrivalTimestamp = r.ApproximateArrivalTimestamp?.getTime() ?? Date.now()
      // a view, not a copy: the SDK decodes each record's data into its own array
      const bytes = r.Data ?? new Uint8Array()
      const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      this.lastFetched = sequenceNumber
      const users = deaggregate(data)
      if (users === undefined) {
        if (this.skip?.sequenceNumber === sequenceNumber) continue
        result.push({
          sequenceNumber,
          subSequenceNumber: undefined,
          partitionKey: r.PartitionKey ?? '',
          explicitHashKey: undefined,
          arrivalTimestamp,
          data,
        })
        continue
      }
      users.forEach((u, i) => {
        if (this.skip?.sequenceNumber === sequenceNumber && i <= this.skip.subSequenceNumber) return
        result.push({
          sequenceNumber,
          subSequenceNumber: i,
          partitionKey: u.partitionKey,
          explicitHashKey: u.explicitHashKey,
          arrivalTimestamp,
          data: u.data,
        })
      })
    }
    if (records.length > 0) this.skip = undefined
    return result
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
      this.cancelSleep = done
    })
  }
}

import type { Client } from '@elastic/elasticsearch'
import { ConnectorError, messageOf, SluiceError } from '../../errors.js'
import { LatencyWindow } from '../../operators/async/async-io-metrics.js'
import type { Counter } from '../../runtime/metric-group.js'
import type { SinkWriterContext } from '../../runtime/sink.js'
import { backoffDelay } from '../../util/backoff.js'
import { Deferred } from '../../util/deferred.js'
import { BatchingWriter } from '../base/batching-writer.js'
import { type BulkItem, bulkItem } from './bulk-item.js'
import { connectElasticsearch, describeNodes } from './connection.js'
import {
  type BulkResponseItem,
  describeItemError,
  type FailureReason,
  failureReason,
  itemOutcome,
} from './item-outcome.js'
import { KeyOrder } from './key-order.js'
import type { ElasticsearchAction, ElasticsearchSinkSettings } from './options.js'

/** The actions of one bulk request and their NDJSON bytes. */
interface Batch {
  readonly items: BulkItem[]
  readonly bytes: number
}

interface BulkAnswer {
  readonly errors?: boolean
  readonly items?: ReadonlyArray<Record<string, BulkResponseItem>>
}

const UNORDERED = { ready: Promise.resolve(), release: () => {} }
const NOTHING_TO_RETRY = { retry: [], reason: '' }

/**
 * The writer of an Elasticsearch sink (Flink's ElasticsearchWriter with its bulk processor), on
 * {@link BatchingWriter}: the emitter turns each record into actions, encoded at once into NDJSON; a
 * bulk request goes out at `maxActions`, `maxBytes` or `flushIntervalMs`, up to `maxInFlightRequests` at
 * a time, actions of one document never overtaking each other. Each item of the answer is judged on
 * its own: rejected (429) and failed (5xx) items — or all of them when the request itself failed — are
 * sent again with backoff, alone, in order; conflicts (409) and invalid items (400) go where
 * `onConflict` and `onInvalid` say.
 *
 * Threading: everything runs on the event loop; the emitter and the encoding run in `write`, the
 * requests and their retries on the client's promises, retry waits on plain timers (a barrier may be
 * waiting for them). Bounds: `ready()` holds the job back while `maxBufferedRecords` records or
 * `maxBufferedBytes` bytes of actions are buffered or in flight, and lets it go on at half of the
 * records, or once `maxBytes` fit again.
 *
 * @example
 * const writer = new ElasticsearchSinkWriter(settings, elasticsearchClient(settings.connection), context)
 */
export class ElasticsearchSinkWriter<T> extends BatchingWriter<T, Batch> {
  private items: BulkItem[] = []
  private bytes = 0
  /** Bytes of actions buffered or in flight. */
  private heldBytes = 0
  private bytesWaiting: Deferred | undefined
  private readonly order = new KeyOrder()
  private readonly closing = new Deferred()
  private readonly sleepers = new Set<() => void>()
  private requestsInFlight = 0
  private readonly latency = new LatencyWindow()
  private readonly actionsSent: Counter
  private readonly bytesSent: Counter
  private readonly retriedActions: Counter
  private readonly ignoredConflicts: Counter
  private readonly droppedActions: Counter
  private readonly deadLetters: Counter
  private readonly failures: Record<FailureReason, Counter>

  constructor(
    private readonly settings: ElasticsearchSinkSettings<T>,
    private readonly client: Client,
    context: SinkWriterContext,
  ) {
    super(context, {
      connector: 'elasticsearch',
      maxBatchRecords: settings.maxActions,
      lingerMs: settings.flushIntervalMs,
      maxInFlightRecords: settings.maxBufferedRecords,
      flushOnBarrier: settings.guarantee === 'at-least-once',
      maxInFlightRequests: settings.maxInFlightRequests,
    })
    this.actionsSent = this.metrics.counter('actions')
    this.bytesSent = this.metrics.counter('bytes')
    this.retriedActions = this.metrics.counter('retriedActions')
    this.ignoredConflicts = this.metrics.counter('ignoredConflicts')
    this.droppedActions = this.metrics.counter('droppedActions')
    this.deadLetters = this.metrics.counter('deadLetters')
    this.failures = {
      rejected: this.metrics.counter('failuresRejected'),
      serverError: this.metrics.counter('failuresServerError'),
      conflict: this.metrics.counter('failuresConflict'),
      invalid: this.metrics.counter('failuresInvalid'),
      unreachable: this.metrics.counter('failuresUnreachable'),
    }
    this.metrics.gauge('inFlightRequests', () => this.requestsInFlight)
    this.metrics.gauge('bufferedBytes', () => this.heldBytes)
    this.metrics.gauge('bulkLatencyP50Ms', () => this.latency.percentiles().p50)
    this.metrics.gauge('bulkLatencyP99Ms', () => this.latency.percentiles().p99)
    const closed = this.closing.promise.then(() => {
      throw new ConnectorError('ERR_CLOSED', 'elasticsearch sink: closed while connecting')
    })
    this.openWith(
      Promise.race([
        connectElasticsearch(client, settings.connection, context.processingTime, () => this.closing.settled),
        closed,
      ]),
    )
  }

  /** Bytes of actions buffered or in flight. */
  get bufferedBytes(): number {
    return this.heldBytes
  }

  override ready(): Promise<void> | undefined {
    const byRecords = super.ready()
    if (byRecords !== undefined || this.heldBytes < this.settings.maxBufferedBytes) return byRecords
    this.send()
    this.bytesWaiting ??= new Deferred()
    return this.bytesWaiting.promise
  }

  override async close(): Promise<void> {
    this.closing.resolve()
    for (const wake of this.sleepers) wake()
    await super.close()
    await this.client.close()
  }

  protected addToBatch(value: T, timestamp: number | undefined): void {
    let items: BulkItem[]
    try {
      const emitted = this.settings.emitter(value, { timestamp, subtask: this.context.subtask })
      const actions: readonly ElasticsearchAction[] =
        emitted === undefined ? [] : Array.isArray(emitted) ? emitted : [emitted as ElasticsearchAction]
      items = actions.map((action) => bulkItem(action, value))
    } catch (error) {
      this.failures.invalid.inc()
      this.refuseInvalid(value, undefined, `the emitter gave no valid action: ${messageOf(error)}`, error)
      return
    }
    for (const item of items) {
      if (
        this.items.length > 0 &&
        (this.items.length >= this.settings.maxActions || this.bytes + item.bytes > this.settings.maxBytes)
      )
        this.send()
      this.items.push(item)
      this.bytes += item.bytes
      this.heldBytes += item.bytes
    }
  }

  protected takeBatch(): Batch {
    const batch = { items: this.items, bytes: this.bytes }
    this.items = []
    this.bytes = 0
    return batch
  }

  protected async sendBatch(batch: Batch): Promise<void> {
    const { ready, release } =
      this.settings.maxInFlightRequests > 1 ? this.order.take(batch.items.map((item) => item.key)) : UNORDERED
    try {
      await ready
      await this.sendItems(batch.items)
    } finally {
      release()
      this.releaseBytes(batch.bytes)
    }
  }

  protected toFailure(error: unknown): Error {
    return error instanceof SluiceError
      ? error
      : new ConnectorError('ERR_SEND', `elasticsearch sink (subtask ${this.context.subtask}): ${messageOf(error)}`, {
          retriable: true,
        })
  }

  protected override fail(error: unknown): void {
    super.fail(error)
    this.bytesWaiting?.resolve()
    this.bytesWaiting = undefined
  }

  /** Sends `items` until each is done, dead-lettered, dropped or ignored; resends only the failed ones. */
  private async sendItems(items: readonly BulkItem[]): Promise<void> {
    let pending = items
    let lastFailure = ''
    let unreachable = false
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) {
        if (attempt > this.settings.bulkRetry.maxRetries)
          throw this.givenUp(pending.length, attempt, lastFailure, unreachable)
        await this.sleep(backoffDelay(attempt - 1, this.settings.bulkRetry))
        if (this.failure !== undefined || this.closing.settled) return
        this.retriedActions.inc(pending.length)
      }
      let body = ''
      for (const item of pending) body += item.lines
      this.requests.inc()
      this.actionsSent.inc(pending.length)
      this.bytesSent.inc(Buffer.byteLength(body, 'utf8'))
      this.requestsInFlight++
      const started = performance.now()
      let answer: BulkAnswer
      try {
        const response = await this.client.transport.request<BulkAnswer>(
          { method: 'POST', path: '/_bulk', bulkBody: body },
          { meta: true },
        )
        answer = response.body
      } catch (error) {
        const status = (error as { meta?: { statusCode?: unknown } }).meta?.statusCode
        unreachable = typeof status !== 'number' || status === 0
        lastFailure = unreachable ? messageOf(error) : `bulk request answered ${status}: ${messageOf(error)}`
        if (!unreachable && status !== 429 && (status as number) < 500)
          throw new ConnectorError('ERR_SEND', `elasticsearch sink (subtask ${this.context.subtask}): ${lastFailure}`)
        this.failures[unreachable ? 'unreachable' : status === 429 ? 'rejected' : 'serverError'].inc(pending.length)
        continue
      } finally {
        this.requestsInFlight--
        this.latency.record(performance.now() - started)
      }
      unreachable = false
      const { retry, reason } = this.settle(pending, answer)
      lastFailure = reason
      pending = retry
    }
  }

  /**
   * Judges each item of an answer; returns the items to send again (and why). An item after a resent
   * one of the same document is resent too, after it, so the last action on a document stays last.
   */
  private settle(pending: readonly BulkItem[], answer: BulkAnswer): { retry: readonly BulkItem[]; reason: string } {
    const results = answer.items
    if (results === undefined || !Array.isArray(results) || results.length !== pending.length)
      throw new ConnectorError(
        'ERR_SEND',
        `elasticsearch sink (subtask ${this.context.subtask}): a bulk answer of ${results?.length} items for ${pending.length} actions`,
      )
    if (answer.errors === false) return NOTHING_TO_RETRY
    const retry: BulkItem[] = []
    let resentKeys: Set<string> | undefined
    let reason = ''
    let dropped = 0
    let firstDropped = ''
    for (let i = 0; i < pending.length; i++) {
      const item = pending[i]!
      const result = (results[i] as Record<string, BulkResponseItem>)[item.action.type]
      if (result === undefined)
        throw new ConnectorError('ERR_SEND', `elasticsearch sink: a bulk answer item without ${item.action.type}`)
      let outcome = itemOutcome(result)
      if (outcome === 'done') {
        if (item.key !== undefined && resentKeys?.has(item.key)) retry.push(item)
        continue
      }
      this.failures[failureReason(result)].inc()
      const why = describeItemError(result)
      if (outcome === 'conflict' && item.key !== undefined && resentKeys?.has(item.key)) outcome = 'retry'
      if (outcome === 'retry') {
        retry.push(item)
        if (item.key !== undefined) (resentKeys ??= new Set()).add(item.key)
        reason ||= why
      } else if (outcome === 'conflict') {
        if (this.settings.onConflict === 'ignore') this.ignoredConflicts.inc()
        else if (this.settings.onConflict === 'dead-letter') this.sendToDeadLetters(item.record, item.action, why)
        else
          throw new ConnectorError(
            'ERR_VERSION_CONFLICT',
            `elasticsearch sink (subtask ${this.context.subtask}): ${item.action.type} ${item.key}: ${why} (onConflict: 'ignore' or 'dead-letter' goes on)`,
          )
      } else if (this.settings.onInvalid === 'drop') {
        this.droppedActions.inc()
        if (dropped++ === 0) firstDropped = `${item.action.type} ${item.action.index}/${item.action.id ?? ''}: ${why}`
      } else this.refuseInvalid(item.record, item.action, why)
    }
    if (dropped > 0)
      this.context.logger?.warn('elasticsearch sink dropped invalid actions', {
        subtask: this.context.subtask,
        dropped,
        example: firstDropped,
      })
    return { retry, reason }
  }

  /** A record the emitter refused, or an action the cluster refused for good: by `onInvalid`. */
  private refuseInvalid(record: unknown, action: ElasticsearchAction | undefined, why: string, error?: unknown): void {
    switch (this.settings.onInvalid) {
      case 'dead-letter':
        this.sendToDeadLetters(record, action, why, error)
        return
      case 'drop':
        this.droppedActions.inc()
        this.context.logger?.warn('elasticsearch sink dropped an invalid record', {
          subtask: this.context.subtask,
          reason: why,
        })
        return
      default:
        throw new ConnectorError(
          'ERR_INVALID_RECORD',
          `elasticsearch sink (subtask ${this.context.subtask}): ${action === undefined ? 'record' : `${action.type} ${action.index}/${action.id ?? ''}`}: ${why} (onInvalid: 'drop' or 'dead-letter' goes on)`,
          error === undefined ? {} : { cause: error },
        )
    }
  }

  private sendToDeadLetters(
    record: unknown,
    action: ElasticsearchAction | undefined,
    reason: string,
    error?: unknown,
  ): void {
    this.deadLetters.inc()
    const letter = {
      operator: 'elasticsearch sink',
      subtask: this.context.subtask,
      reason,
      record: { record, action },
      error,
      at: Date.now(),
    }
    if (this.context.deadLetter !== undefined) this.context.deadLetter(letter)
    else this.context.logger?.warn('elasticsearch sink dead letter', { subtask: this.context.subtask, reason })
  }

  private givenUp(count: number, attempts: number, lastFailure: string, unreachable: boolean): ConnectorError {
    const where = `elasticsearch sink (subtask ${this.context.subtask}): nodes ${describeNodes(this.settings.connection.nodes)}`
    return unreachable
      ? new ConnectorError(
          'ERR_CONNECT',
          `${where}: cannot reach the cluster after ${attempts} attempt(s): ${lastFailure}`,
          {
            retriable: true,
          },
        )
      : new ConnectorError(
          'ERR_SEND',
          `${where}: ${count} action(s) still failing after ${attempts} attempt(s): ${lastFailure}`,
          { retriable: true },
        )
  }

  private releaseBytes(bytes: number): void {
    this.heldBytes -= bytes
    // Go on once a whole request fits again (not at half, as for records): the requests in flight keep
    // the node busy while the next one fills.
    const resumeAt = Math.max(
      this.settings.maxBufferedBytes - this.settings.maxBytes,
      this.settings.maxBufferedBytes / 2,
    )
    if (this.bytesWaiting !== undefined && this.heldBytes <= resumeAt) {
      this.bytesWaiting.resolve()
      this.bytesWaiting = undefined
    }
  }

  /**
   * A plain timer, not the processing-time service: a barrier may wait for this retry, and the
   * subtask's mailbox is not to be relied on until it settles; `close` cuts it short.
   */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        this.sleepers.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      this.sleepers.add(wake)
    })
  }
}

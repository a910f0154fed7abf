import type { Client, QueryOptions } from 'cassandra-driver'
import { ConnectorError, messageOf } from '../../errors.js'
import type { Logger } from '../../logging.js'
import type { Counter, MetricGroup } from '../../runtime/metric-group.js'
import type { DeadLetter } from '../../runtime/output-tag.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { backoffDelay } from '../../util/backoff.js'
import { cassandraDriver } from './connection.js'
import type { CassandraSinkSettings } from './options.js'
import type { BoundRecord } from './statement.js'

/** Error codes of the native protocol that a later attempt may not see: overloaded, unavailable, timeouts. */
const TRANSIENT_CODES = new Set([0x1000, 0x1001, 0x1002, 0x1100, 0x1200])
const WRITE_TIMEOUT = 0x1100
/**
 * Write timeouts whose write a second attempt may apply twice: a counter increment (COUNTER) or a
 * lightweight transaction (CAS) the replicas may have applied although the coordinator timed out.
 */
const UNREPEATABLE_WRITE_TYPES = new Set(['COUNTER', 'CAS'])

/**
 * Whether a failed write may succeed when tried again, and trying it again is safe: the node was
 * overloaded, too few replicas were alive, the coordinator (reads; writes of type SIMPLE, BATCH,
 * UNLOGGED_BATCH, BATCH_LOG — upserts a repeat overwrites with the same values) or the client timed
 * out, or no node could be reached. A write timeout of a counter update or a lightweight transaction is
 * not: the replicas may have applied it.
 *
 * @example
 * isTransient(new driver.errors.ResponseError(0x1001, 'overloaded')) // true
 */
export function isTransient(error: unknown): boolean {
  const { errors } = cassandraDriver.get('cassandraSink')
  if (error instanceof errors.OperationTimedOutError || error instanceof errors.NoHostAvailableError) return true
  if (!(error instanceof errors.ResponseError) || !TRANSIENT_CODES.has(error.code)) return false
  const writeType = (error as { writeType?: unknown }).writeType
  return error.code !== WRITE_TIMEOUT || !UNREPEATABLE_WRITE_TYPES.has(String(writeType))
}

/** The counters of the sink's writes (in the job's metrics). */
interface WriteMetrics {
  readonly records: Counter
  readonly requests: Counter
  readonly batches: Counter
  readonly retries: Counter
  readonly ignored: Counter
  readonly deadLettered: Counter
  readonly failures: Counter
}

/** One request: a statement, or an unlogged batch of one partition's statements. */
interface Request<T> {
  readonly records: BoundRecord<T>[]
  attempt: number
}

/**
 * Executes records against Cassandra with at most `maxConcurrentRequests` requests in flight; with
 * `batchSize` > 1 records of one partition (and one write time) are grouped into unlogged batches. A
 * failed request is handled as `onFailure` says: retried with backoff (transient errors), ignored,
 * dead-lettered, or it fails the writer. Dead letters are handed out by {@link takeDeadLetters}, on the
 * subtask's mailbox.
 *
 * Threading: called on the subtask's mailbox; driver callbacks only update counts and settle promises.
 *
 * @example
 * const requests = new WriteRequests(settings, client, processingTime, metrics, logger, 'cassandra')
 * requests.submit(binder.bind(order, ts)); await requests.whenIdle()
 */
export class WriteRequests<T> {
  private readonly queue: Request<T>[] = []
  private readonly groups = new Map<string, BoundRecord<T>[]>()
  private grouped = 0
  private active = 0
  private failure: Error | undefined
  private waiters: Array<{ below: number; resolve(): void; reject(error: Error): void }> = []
  private letters: DeadLetter[] = []
  private readonly metrics: WriteMetrics
  private readonly options: QueryOptions

  constructor(
    private readonly settings: CassandraSinkSettings<T>,
    private readonly client: Client,
    private readonly processingTime: ProcessingTimeService,
    metricGroup: MetricGroup,
    private readonly logger: Logger | undefined,
    private readonly operator: string,
    private readonly subtask: number,
  ) {
    const driver = cassandraDriver.get('cassandraSink')
    this.options = {
      prepare: true,
      consistency: driver.types.consistencies[settings.consistency],
      serialConsistency: driver.types.consistencies[settings.serialConsistency],
    }
    this.metrics = {
      records: metricGroup.counter('recordsWritten'),
      requests: metricGroup.counter('requests'),
      batches: metricGroup.counter('batches'),
      retries: metricGroup.counter('retries'),
      ignored: metricGroup.counter('recordsIgnored'),
      deadLettered: metricGroup.counter('recordsDeadLettered'),
      failures: metricGroup.counter('failedRequests'),
    }
    metricGroup.gauge('requestsInFlight', () => this.active)
  }

  /** Records submitted and not yet written (queued, grouped or in flight). */
  get pending(): number {
    return this.grouped + this.queue.reduce((n, r) => n + r.records.length, 0) + this.inFlightRecords
  }

  /** Requests in flight (retries waiting for their delay included). */
  get inFlight(): number {
    return this.active
  }

  private inFlightRecords = 0

  /** The error that failed the writer, if any. */
  get failed(): Error | undefined {
    return this.failure
  }

  /** Adds a record: sent at once when a slot is free, else queued (batches: grouped by partition). */
  submit(record: BoundRecord<T>): void {
    if (this.settings.batchSize === 1) {
      this.queue.push({ records: [record], attempt: 0 })
    } else {
      const key = `${record.writeTime ?? ''}|${record.partition}`
      let group = this.groups.get(key)
      if (group === undefined) {
        group = []
        this.groups.set(key, group)
      }
      group.push(record)
      this.grouped++
      if (group.length >= this.settings.batchSize) {
        this.groups.delete(key)
        this.grouped -= group.length
        this.queue.push({ records: group, attempt: 0 })
      }
    }
    this.pump()
  }

  /** Sends the partly filled batches too (on a barrier and at the end). */
  sendGroups(): void {
    for (const group of this.groups.values()) this.queue.push({ records: group, attempt: 0 })
    this.groups.clear()
    this.grouped = 0
    this.pump()
  }

  /** Resolves when fewer than `count` records wait or fly; rejects when the writer fails. */
  whenBelow(count: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.pending < count) return Promise.resolve()
    return new Promise((resolve, reject) => this.waiters.push({ below: count, resolve, reject }))
  }

  /** Sends everything and resolves when every record submitted so far is written (or handled). */
  whenIdle(): Promise<void> {
    this.sendGroups()
    return this.whenBelow(1)
  }

  /** Dead letters since the last call (handed out on the mailbox). */
  takeDeadLetters(): DeadLetter[] {
    const letters = this.letters
    if (letters.length > 0) this.letters = []
    return letters
  }

  /** Fails the writer with `error` (a slot timeout, a lost connection). */
  fail(error: Error): void {
    this.failure ??= error
    for (const w of this.waiters.splice(0)) w.reject(this.failure)
  }

  private pump(): void {
    while (this.failure === undefined && this.active < this.settings.maxConcurrentRequests && this.queue.length > 0) {
      const request = this.queue.shift()!
      this.active++
      this.inFlightRecords += request.records.length
      this.send(request)
    }
  }

  private send(request: Request<T>): void {
    const { records } = request
    const first = records[0]!
    const options: QueryOptions =
      first.writeTime === undefined ? this.options : { ...this.options, timestamp: first.writeTime }
    this.metrics.requests.inc()
    const done =
      records.length === 1
        ? this.client.execute(first.statement.query, first.statement.params as unknown[], options)
        : this.client.batch(
            records.map((r) => ({ query: r.statement.query, params: r.statement.params as unknown[] })),
            { ...options, logged: false },
          )
    if (records.length > 1) this.metrics.batches.inc()
    done.then(
      () => {
        this.metrics.records.inc(records.length)
        this.finish(request)
      },
      (error: unknown) => this.onError(request, error),
    )
  }

  private onError(request: Request<T>, error: unknown): void {
    this.metrics.failures.inc()
    const { settings } = this
    const transient = isTransient(error)
    if (settings.onFailure === 'retry' && transient && request.attempt < settings.writeRetry.maxRetries) {
      const delay = backoffDelay(request.attempt, settings.writeRetry)
      request.attempt++
      this.metrics.retries.inc()
      this.processingTime.scheduleAt(this.processingTime.now() + delay, () => {
        if (this.failure === undefined) this.send(request)
      })
      return
    }
    const reason = `${settings.endpoint}: write failed${request.attempt > 0 ? ` after ${request.attempt + 1} attempts` : ''}: ${messageOf(error)} (${describe(request.records)})`
    if (settings.onFailure === 'ignore') {
      this.metrics.ignored.inc(request.records.length)
      this.logger?.warn('cassandra write ignored', { records: request.records.length, reason })
    } else if (settings.onFailure === 'dead-letter') {
      this.metrics.deadLettered.inc(request.records.length)
      for (const r of request.records)
        this.letters.push({
          operator: this.operator,
          subtask: this.subtask,
          reason,
          record: r.value,
          error,
          at: Date.now(),
        })
    } else {
      this.fail(new ConnectorError('ERR_WRITE', reason, { cause: error, retriable: transient }))
    }
    this.finish(request)
  }

  private finish(request: Request<T>): void {
    this.active--
    this.inFlightRecords -= request.records.length
    this.pump()
    if (this.waiters.length === 0) return
    const pending = this.pending
    this.waiters = this.waiters.filter((w) => {
      if (pending >= w.below) return true
      w.resolve()
      return false
    })
  }
}

/** The request's statement text (never its bound values, which may hold what users must not log). */
function describe<T>(records: readonly BoundRecord<T>[]): string {
  const query = records[0]!.statement.query
  return records.length === 1 ? `statement: ${query}` : `unlogged batch of ${records.length} statements: ${query}`
}

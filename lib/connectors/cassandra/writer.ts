import { randomUUID } from 'node:crypto'
import { ConnectorError, messageOf } from '../../errors.js'
import { MetricGroup } from '../../runtime/metric-group.js'
import type { SinkWriter, SinkWriterContext } from '../../runtime/sink.js'
import { CassandraCommitter, type CommitterKey } from './committer.js'
import { type CassandraSession, cassandraDriver, openCassandra } from './connection.js'
import type { CassandraSinkSettings } from './options.js'
import { StatementBinder } from './statement.js'
import { restoredWalStates, type WalCheckpoint, type WalStateV1 } from './wal-state.js'
import { WriteRequests } from './write-requests.js'

interface Connected<T> {
  readonly session: CassandraSession
  readonly binder: StatementBinder<T>
  readonly requests: WriteRequests<T>
  readonly committer: CassandraCommitter | undefined
}

/**
 * The writer of {@link CassandraSink}.
 *
 * At-least-once: each record is bound and sent at once (bounded by `maxConcurrentRequests`); a
 * barrier waits until every record before it is written.
 *
 * Exactly-once (write-ahead log, Flink's CassandraTupleWriteAheadSink): records are kept, not sent; a
 * barrier puts them into the checkpoint; when the checkpoint completes they are written, then the
 * committer row of this writer says so. A restored writer first writes the checkpoints of the
 * restored state that the committer does not list as written — before it takes new records — and
 * deletes the committer rows of the writers it took over once a checkpoint of its own completes.
 *
 * @example
 * const writer = new CassandraSink<Order>({ table: { keyspace: 'shop', table: 'orders' } }).createWriter(context)
 * writer.write({ id: 1, total: 9.5 }, undefined)
 * await writer.flush(false)
 */
export class CassandraSinkWriter<T> implements SinkWriter<T> {
  private readonly open: ReturnType<typeof openCassandra>
  private readonly metrics: MetricGroup
  private connected: Connected<T> | undefined
  private failure: Error | undefined
  private readonly ready_: Promise<void>
  private readonly key: CommitterKey
  /** Exactly-once: records since the last barrier. */
  private current: Array<readonly [T, number | undefined]> = []
  /** Exactly-once: checkpoints taken and not yet written, oldest first. */
  private pendingCheckpoints: WalCheckpoint<T>[] = []
  private committing: Promise<void> = Promise.resolve()
  /** Committer rows of the writers this one took over, deleted once a checkpoint from `cleanupAfter` on completes. */
  private takenOver: CommitterKey[] = []
  private cleanupAfter = Number.POSITIVE_INFINITY
  private closed = false
  /** At-least-once: records written before the connection was up (the runtime's bounded overshoot). */
  private early: Array<readonly [T, number | undefined]> = []

  constructor(
    private readonly settings: CassandraSinkSettings<T>,
    private readonly context: SinkWriterContext,
    restored: readonly unknown[] = [],
  ) {
    this.metrics = context.metrics ?? new MetricGroup('cassandra')
    this.key = { subtask: context.subtask, writerId: randomUUID() }
    const states = settings.guarantee === 'exactly-once' ? restoredWalStates<T>(restored) : []
    this.metrics.gauge('walRecords', () => this.walRecords)
    this.open = openCassandra(settings, context.processingTime)
    this.ready_ = this.open.session.then(
      (session) => this.start(session, states),
      (error: Error) => {
        this.failure ??= error
        throw error
      },
    )
    this.ready_.catch(() => {})
  }

  /** Records held by the write-ahead log (not yet written). */
  get walRecords(): number {
    return this.current.length + this.pendingCheckpoints.reduce((n, c) => n + c.records.length, 0)
  }

  /** The counters of this writer (the job's metric group when it runs in a job). */
  get metricGroup(): MetricGroup {
    return this.metrics
  }

  write(value: T, timestamp: number | undefined): void {
    this.check()
    if (this.settings.guarantee === 'exactly-once') {
      this.current.push([value, timestamp])
      return
    }
    const connected = this.connected
    if (connected === undefined) this.early.push([value, timestamp])
    else this.submit(connected, value, timestamp)
  }

  ready(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    const connected = this.connected
    if (connected === undefined) return this.ready_
    const max = this.settings.maxConcurrentRequests * this.settings.batchSize
    if (this.settings.guarantee === 'exactly-once' || connected.requests.pending < max) return undefined
    return this.withSlotTimeout(connected.requests.whenBelow(max))
  }

  async flush(): Promise<void> {
    if (this.settings.guarantee === 'exactly-once') return
    await this.ready_
    await this.connected!.requests.whenIdle()
    this.check()
  }

  async snapshotState(checkpointId: number): Promise<unknown[]> {
    await this.ready_
    if (this.settings.guarantee === 'at-least-once') {
      await this.flush()
      return []
    }
    this.check()
    if (this.current.length > 0) this.pendingCheckpoints.push({ id: checkpointId, records: this.current })
    this.current = []
    if (this.cleanupAfter === Number.POSITIVE_INFINITY && this.takenOver.length > 0) this.cleanupAfter = checkpointId
    const state: WalStateV1<T> = { v: 1, ...this.key, pending: [...this.pendingCheckpoints] }
    return [state]
  }

  /** Exactly-once: writes the checkpoints up to `checkpointId`, each followed by its committer row. */
  notifyCheckpointComplete(checkpointId: number): Promise<void> {
    if (this.settings.guarantee !== 'exactly-once') return Promise.resolve()
    this.committing = this.committing.then(() => this.commitUpTo(checkpointId))
    return this.committing
  }

  /** Waits for a commit in progress (a begun commit runs to its end), then shuts the client down. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.committing.catch(() => {})
    this.open.close()
    const connected = this.connected
    if (connected !== undefined) {
      await connected.requests.whenIdle().catch(() => {})
      this.deliverDeadLetters()
      await connected.session.client.shutdown().catch(() => {})
    } else {
      void this.open.session.then((s) => s.client.shutdown()).catch(() => {})
    }
  }

  private async start(session: CassandraSession, states: WalStateV1<T>[]): Promise<void> {
    const { settings, context } = this
    const driver = cassandraDriver.get('cassandraSink')
    const binder = new StatementBinder(settings, session, driver.types.unset)
    const requests = new WriteRequests(
      settings,
      session.client,
      context.processingTime,
      this.metrics,
      context.logger,
      `cassandraSink`,
      context.subtask,
    )
    const committer =
      settings.guarantee === 'exactly-once'
        ? new CassandraCommitter(settings as CassandraSinkSettings<unknown>, session.client)
        : undefined
    const connected: Connected<T> = { session, binder, requests, committer }
    if (committer !== undefined) {
      await committer.create()
      for (const state of states) {
        const key = { subtask: state.subtask, writerId: state.writerId }
        const last = await committer.lastWritten(key)
        for (const checkpoint of state.pending) {
          if (checkpoint.id <= last) {
            this.metrics.counter('walCheckpointsSkipped').inc()
            continue
          }
          await this.writeCheckpoint(connected, key, checkpoint)
          this.metrics.counter('walCheckpointsRestored').inc()
        }
        this.takenOver.push(key)
      }
    }
    this.connected = connected
    for (const [value, timestamp] of this.early.splice(0)) this.submit(connected, value, timestamp)
  }

  private async commitUpTo(checkpointId: number): Promise<void> {
    const connected = this.connected
    if (connected === undefined || this.failure !== undefined) return
    while (this.pendingCheckpoints.length > 0 && this.pendingCheckpoints[0]!.id <= checkpointId) {
      await this.writeCheckpoint(connected, this.key, this.pendingCheckpoints[0]!)
      this.pendingCheckpoints.shift()
    }
    if (checkpointId >= this.cleanupAfter && this.takenOver.length > 0) {
      const keys = this.takenOver.splice(0)
      for (const key of keys) await connected.committer!.remove(key)
      this.metrics.counter('committerRowsRemoved').inc(keys.length)
    }
  }

  private async writeCheckpoint(
    connected: Connected<T>,
    key: CommitterKey,
    checkpoint: WalCheckpoint<T>,
  ): Promise<void> {
    for (const [value, timestamp] of checkpoint.records) this.submit(connected, value, timestamp)
    await connected.requests.whenIdle()
    await connected.committer!.committed(key, checkpoint.id)
    this.metrics.counter('walCheckpointsWritten').inc()
  }

  private submit(connected: Connected<T>, value: T, timestamp: number | undefined): void {
    let bound: ReturnType<StatementBinder<T>['bind']>
    try {
      bound = connected.binder.bind(value, timestamp)
    } catch (error) {
      this.poison(value, error)
      return
    }
    connected.requests.submit(bound)
  }

  /** A record whose statement could not be made: handled as a failed write. */
  private poison(value: T, error: unknown): void {
    const reason = `${this.settings.endpoint}: no statement for the record: ${messageOf(error)}`
    const { onFailure } = this.settings
    if (onFailure === 'ignore') {
      this.metrics.counter('recordsIgnored').inc()
      this.context.logger?.warn('cassandra record ignored', { reason })
    } else if (onFailure === 'dead-letter') {
      this.metrics.counter('recordsDeadLettered').inc()
      this.context.deadLetter?.({
        operator: 'cassandraSink',
        subtask: this.context.subtask,
        reason,
        record: value,
        error,
        at: Date.now(),
      })
    } else {
      throw new ConnectorError('ERR_WRITE', reason, { cause: error })
    }
  }

  private withSlotTimeout(waiting: Promise<void>): Promise<void> {
    const { processingTime } = this.context
    const timeoutMs = this.settings.maxConcurrentRequestsTimeoutMs
    return new Promise<void>((resolve, reject) => {
      const cancel = processingTime.scheduleAt(processingTime.now() + timeoutMs, () => {
        const error = new ConnectorError(
          'ERR_TIMEOUT',
          `${this.settings.endpoint}: no free request slot within maxConcurrentRequestsTimeoutMs (${timeoutMs} ms; ${this.settings.maxConcurrentRequests} requests in flight)`,
          { retriable: true },
        )
        this.failure ??= error
        this.connected?.requests.fail(error)
        reject(error)
      })
      waiting.then(
        () => {
          cancel()
          resolve()
        },
        (error: unknown) => {
          cancel()
          reject(error)
        },
      )
    })
  }

  private check(): void {
    this.deliverDeadLetters()
    const failure = this.failure ?? this.connected?.requests.failed
    if (failure !== undefined) throw failure
  }

  private deliverDeadLetters(): void {
    const letters = this.connected?.requests.takeDeadLetters()
    if (letters === undefined) return
    for (const letter of letters) this.context.deadLetter?.(letter)
  }
}

import { type CommitOutcome, TwoPhaseCommitSink } from '../../checkpoint/two-phase-commit-sink.js'
import { ConfigError } from '../../errors.js'
import { createLogger, type Logger } from '../../logging.js'
import type { SinkWriter, SinkWriterContext } from '../../runtime/sink.js'
import { captureProducerIdentities } from './kafka-internals.js'
import {
  abortLingering,
  KafkaTransaction,
  type KafkaTransactionEvent,
  type KafkaTransactionState,
  type LingeringContext,
  type TransactionContext,
} from './kafka-transaction.js'
import { optionsObject, wholeNumber } from '../../util/options.js'
import { kafkaClient } from './connection.js'
import { KAFKA_SINK_KEYS, type KafkaSinkOptions, type ProducerSettings } from './options.js'
import { RecordSerializer } from './producer-records.js'
import { producerSettings } from './sink.js'

/** Options of the exactly-once sink, beyond {@link KafkaSinkOptions}. */
export interface KafkaTransactionalSinkOptions<T> extends KafkaSinkOptions<T> {
  /** Told what happens to each transaction (monitoring, tests). */
  transactionListener?: (event: KafkaTransactionEvent) => void
}

/** What one writer (subtask) keeps besides the base's transactions. */
interface WriterState {
  readonly transactions: TransactionContext
  lastCheckpoint: number
  lastSnapshotAt: number | undefined
  warned: boolean
}

/**
 * Writes records to Kafka in transactions, one per checkpoint (Flink's KafkaSink with
 * DeliveryGuarantee EXACTLY_ONCE), on the two-phase-commit base:
 * - records go into the open transaction, whose transactional id is `<prefix>-<subtask>-<n>` with n
 *   the checkpoint after which it began plus one;
 * - on a checkpoint barrier it is flushed and every record acknowledged (pre-commit), and the next one
 *   begins; when the checkpoint completes it is committed;
 * - on restore, the transactions the checkpoint recorded as pre-committed are committed by producer id
 *   and epoch (kafkajs cannot resume a transaction, so the EndTxn request is sent directly: see
 *   kafka-internals.ts), and transactions an earlier run left open after the checkpoint are aborted
 *   by initialising their transactional ids, before any new transaction opens.
 *
 * The window: a pre-committed transaction must be committed within `transactionTimeoutMs` of when it
 * began, or the broker aborts it and its records are lost (the restore fails with
 * 'ERR_TRANSACTION_LOST'). So transactionTimeoutMs must exceed checkpoint interval + the longest
 * restart; the sink warns when it does not (from `checkpointIntervalMs`, else the measured interval).
 * Consumers see the records with isolation level read_committed once committed.
 *
 * @example
 * stream.sinkTo(new KafkaTransactionalSink({ brokers, topic: 'out', transactionalIdPrefix: 'billing-out' }), { uid: 'out' })
 */
export class KafkaTransactionalSink<T> extends TwoPhaseCommitSink<T, KafkaTransaction> {
  readonly name = 'kafka-transactional'
  readonly records: RecordSerializer<T>
  readonly settings: ProducerSettings
  readonly prefix: string
  readonly transactionTimeoutMs: number
  readonly maxRestartMs: number
  private readonly options: KafkaTransactionalSinkOptions<T>
  private readonly writers = new WeakMap<SinkWriterContext, WriterState>()
  private warnedAtBuild = false

  constructor(options: KafkaTransactionalSinkOptions<T>) {
    super()
    options = optionsObject('kafkaSink', options, KAFKA_SINK_KEYS)
    kafkaClient('kafkaSink', options)
    const prefix = options.transactionalIdPrefix
    if (typeof prefix !== 'string' || !/^[A-Za-z0-9._-]+$/.test(prefix))
      throw new ConfigError(
        'kafkaSink.transactionalIdPrefix',
        prefix,
        "letters, digits, '.', '_' or '-', unique per job (exactly-once needs it)",
      )
    if (options.transactionListener !== undefined && typeof options.transactionListener !== 'function')
      throw new ConfigError('kafkaSink.transactionListener', options.transactionListener, 'a function')
    this.prefix = prefix
    this.records = new RecordSerializer('kafkaSink', options)
    this.settings = producerSettings('kafkaSink', options)
    this.transactionTimeoutMs = wholeNumber('kafkaSink.transactionTimeoutMs', options.transactionTimeoutMs, 60_000, 1)
    this.maxRestartMs = wholeNumber('kafkaSink.maxRestartMs', options.maxRestartMs, 30_000, 0)
    if (options.checkpointIntervalMs !== undefined)
      wholeNumber('kafkaSink.checkpointIntervalMs', options.checkpointIntervalMs, undefined, 1)
    this.options = options
  }

  /**
   * The writer of one subtask. Before anything else it aborts the transactions an earlier run may have
   * left open: those of the subtasks it takes over (old subtask s with s mod parallelism = this
   * subtask), after the restored checkpoint; on a fresh start, its own.
   */
  override createWriter(context: SinkWriterContext, restored?: readonly unknown[]): SinkWriter<T> {
    const kafka = kafkaClient('kafkaSink', this.options)
    const log = context.logger ?? createLogger()
    this.warnAtBuild(log)
    const states = (restored ?? []).map(stateOf).filter((s): s is KafkaTransactionState => s !== undefined)
    const lastCheckpoint = states.reduce((max, s) => Math.max(max, s.checkpointId), 0)
    const base = {
      kafka,
      identities: captureProducerIdentities(kafka),
      transactionTimeoutMs: this.transactionTimeoutMs,
      acks: this.settings.acks,
      createPartitioner: this.records.createPartitioner,
      listener: this.options.transactionListener,
    }
    const ready = this.abortLeftOpen(base, context, states, lastCheckpoint)
    ready.catch(() => undefined)
    const state: WriterState = {
      transactions: { ...base, ready, live: new Set() },
      lastCheckpoint,
      lastSnapshotAt: undefined,
      warned: false,
    }
    this.writers.set(context, state)
    for (const s of states)
      if (s.preCommittedAt !== undefined && Date.now() - s.preCommittedAt > this.transactionTimeoutMs) {
        log.warn(
          'a restored Kafka transaction is older than transactionTimeoutMs: the broker has probably aborted it',
          {
            transactionalId: s.transactionalId,
            ageMs: Date.now() - s.preCommittedAt,
            transactionTimeoutMs: this.transactionTimeoutMs,
          },
        )
      }
    const writer = super.createWriter(context, restored)
    return new TransactionalWriter(
      writer,
      state,
      this.settings.maxInFlightRecords,
      this.transactionTimeoutMs,
      this.maxRestartMs,
      log,
    )
  }

  protected beginTransaction(context: SinkWriterContext): KafkaTransaction {
    const state = this.writers.get(context)!
    const n = state.lastCheckpoint + 1
    return new KafkaTransaction(
      `${this.prefix}-${context.subtask}-${n}`,
      n,
      context.subtask,
      context.parallelism,
      state.transactions,
    )
  }

  protected write(transaction: KafkaTransaction, value: T, timestamp: number | undefined): void {
    this.records.add(transaction.buffer, value, timestamp)
    transaction.records++
    if (transaction.buffer.size >= this.settings.batchSize) transaction.send()
  }

  protected preCommit(transaction: KafkaTransaction): Promise<void> {
    return transaction.preCommit()
  }

  protected commit(transaction: KafkaTransaction): Promise<CommitOutcome> {
    return transaction.commit()
  }

  protected abort(transaction: KafkaTransaction): Promise<void> {
    return transaction.abort()
  }

  protected toState(transaction: KafkaTransaction, checkpointId: number): unknown {
    return transaction.toState(checkpointId)
  }

  protected fromState(state: unknown): KafkaTransaction {
    const s = stateOf(state)
    if (s === undefined) throw new ConfigError('kafka transactional sink state', state, 'a version 1 transaction state')
    const context: TransactionContext = {
      kafka: kafkaClient('kafkaSink', this.options),
      identities: new Map(),
      ready: Promise.resolve(),
      live: new Set(),
      transactionTimeoutMs: this.transactionTimeoutMs,
      acks: this.settings.acks,
      createPartitioner: this.records.createPartitioner,
      listener: this.options.transactionListener,
    }
    return new KafkaTransaction(s.transactionalId, s.n, s.subtask, s.parallelism, context, s)
  }

  private async abortLeftOpen(
    base: LingeringContext,
    context: SinkWriterContext,
    states: KafkaTransactionState[],
    lastCheckpoint: number,
  ): Promise<void> {
    const { subtask, parallelism } = context
    if (states.length === 0) {
      await abortLingering(base, this.prefix, subtask, 1)
      return
    }
    const oldParallelism = states.reduce((max, s) => Math.max(max, s.parallelism), 0)
    for (let s = subtask; s < Math.max(oldParallelism, subtask + 1); s += parallelism)
      await abortLingering(base, this.prefix, s, lastCheckpoint + 1)
  }

  private warnAtBuild(log: Logger): void {
    const interval = this.options.checkpointIntervalMs
    if (this.warnedAtBuild || interval === undefined || interval + this.maxRestartMs < this.transactionTimeoutMs) return
    this.warnedAtBuild = true
    log.warn(
      'kafka sink: transactionTimeoutMs is shorter than checkpoint interval + maxRestartMs; a transaction may be aborted by the broker before a restored job commits it, losing its records',
      {
        transactionTimeoutMs: this.transactionTimeoutMs,
        checkpointIntervalMs: interval,
        maxRestartMs: this.maxRestartMs,
      },
    )
  }
}

/**
 * The base's writer with three additions: the checkpoint id is noted before each barrier (it names the
 * next transaction), records in flight are bounded, and closing closes every producer (and opens none).
 */
class TransactionalWriter<T> implements SinkWriter<T> {
  constructor(
    private readonly inner: SinkWriter<T>,
    private readonly state: WriterState,
    private readonly maxInFlight: number,
    private readonly timeoutMs: number,
    private readonly maxRestartMs: number,
    private readonly log: Logger,
  ) {}

  write(value: T, timestamp: number | undefined): void {
    this.inner.write(value, timestamp)
  }

  ready(): Promise<void> | undefined {
    const waiting = this.inner.ready?.()
    if (waiting !== undefined) return waiting
    for (const txn of this.state.transactions.live) {
      if (txn.error !== undefined) return Promise.reject(txn.error)
      if (txn.inFlight + txn.buffer.size >= this.maxInFlight) {
        txn.send()
        return txn.drained()
      }
    }
    return undefined
  }

  async snapshotState(checkpointId: number): Promise<unknown[]> {
    const now = Date.now()
    if (
      this.state.lastSnapshotAt !== undefined &&
      !this.state.warned &&
      now - this.state.lastSnapshotAt + this.maxRestartMs >= this.timeoutMs
    ) {
      this.state.warned = true
      this.log.warn(
        'kafka sink: transactionTimeoutMs is shorter than the checkpoint interval measured + maxRestartMs; a transaction may be aborted by the broker before a restored job commits it, losing its records',
        {
          transactionTimeoutMs: this.timeoutMs,
          measuredIntervalMs: now - this.state.lastSnapshotAt,
          maxRestartMs: this.maxRestartMs,
        },
      )
    }
    this.state.lastSnapshotAt = now
    // Never back: after the end of input the number ran ahead of the checkpoint ids (see flush).
    this.state.lastCheckpoint = Math.max(this.state.lastCheckpoint, checkpointId)
    return this.inner.snapshotState!(checkpointId)
  }

  notifyCheckpointComplete(checkpointId: number): void | Promise<void> {
    return this.inner.notifyCheckpointComplete?.(checkpointId)
  }

  flush(endOfInput: boolean): void | Promise<void> {
    // At the end of input the base commits the open transaction and begins another: give it a new number.
    if (endOfInput) this.state.lastCheckpoint++
    return this.inner.flush?.(endOfInput)
  }

  async close(): Promise<void> {
    // at once: aborting the open transaction waits for it to open, and those cut before it would open meanwhile
    for (const transaction of this.state.transactions.live) transaction.stopOpening()
    await this.inner.close()
    await Promise.allSettled([...this.state.transactions.live].map((t) => t.close()))
  }
}

function stateOf(entry: unknown): KafkaTransactionState | undefined {
  const e = entry as { pending?: { transaction?: unknown }; open?: unknown } | undefined
  const s = (e?.pending?.transaction ?? e?.open ?? entry) as KafkaTransactionState | undefined
  return s?.v === 1 && typeof s.transactionalId === 'string' ? s : undefined
}

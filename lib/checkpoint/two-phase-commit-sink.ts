import { StateError } from '../errors.js'
import type { Sink, SinkWriter, SinkWriterContext } from '../runtime/sink.js'

/** What a commit did. Commits must be idempotent: after a restore one may repeat a commit that happened. */
export type CommitOutcome = 'committed' | 'already-committed' | 'retry-later'

/** A pending transaction as kept in a checkpoint. */
interface PendingEntry {
  readonly checkpointId: number
  readonly transaction: unknown
}

/** The writer state in a checkpoint: pre-committed transactions, and the one open at the barrier. */
export type TwoPhaseCommitWriterState = { readonly pending: PendingEntry } | { readonly open: unknown }

/**
 * The base of exactly-once sinks (Flink's TwoPhaseCommitSinkFunction): records go into a transaction;
 * on a checkpoint barrier the transaction is pre-committed (made durable, not yet visible) and a new
 * one begins; when the checkpoint completes, every transaction pre-committed for it or earlier is
 * committed. On restore, transactions recorded as pre-committed in the checkpoint are committed (again:
 * commits are idempotent) and the one that was open is aborted. Without checkpoints, the transaction
 * commits when the input ends.
 *
 * @example
 * class TableSink extends TwoPhaseCommitSink<Row, { id: string; rows: Row[] }> { ... }
 */
export abstract class TwoPhaseCommitSink<T, Txn> implements Sink<T> {
  abstract readonly name: string
  readonly guarantee = 'exactly-once' as const

  /** A new transaction; synchronous, so records after a barrier have somewhere to go at once. */
  protected abstract beginTransaction(context: SinkWriterContext): Txn
  protected abstract write(transaction: Txn, value: T, timestamp: number | undefined): void
  /** Makes the transaction durable; after this, its commit must be able to succeed. */
  protected abstract preCommit(transaction: Txn): Promise<void> | void
  protected abstract commit(transaction: Txn): Promise<CommitOutcome> | CommitOutcome
  protected abstract abort(transaction: Txn): Promise<void> | void
  /** The transaction as JSON-compatible data for the checkpoint, and back. */
  protected abstract toState(transaction: Txn): unknown
  protected abstract fromState(state: unknown): Txn

  createWriter(context: SinkWriterContext, restored?: readonly unknown[]): SinkWriter<T> {
    return new TwoPhaseCommitWriter(this, context, (restored ?? []) as TwoPhaseCommitWriterState[])
  }

  /** @internal The writer's access to the protocol steps (built once: `write` is called per record). */
  get steps(): TransactionSteps<T, Txn> {
    this.cachedSteps ??= {
      begin: (c) => this.beginTransaction(c),
      write: (t, v, ts) => this.write(t, v, ts),
      preCommit: (t) => this.preCommit(t),
      commit: (t) => this.commit(t),
      abort: (t) => this.abort(t),
      toState: (t) => this.toState(t),
      fromState: (s) => this.fromState(s),
    }
    return this.cachedSteps
  }

  private cachedSteps: TransactionSteps<T, Txn> | undefined
}

interface TransactionSteps<T, Txn> {
  begin(context: SinkWriterContext): Txn
  write(transaction: Txn, value: T, timestamp: number | undefined): void
  preCommit(transaction: Txn): Promise<void> | void
  commit(transaction: Txn): Promise<CommitOutcome> | CommitOutcome
  abort(transaction: Txn): Promise<void> | void
  toState(transaction: Txn): unknown
  fromState(state: unknown): Txn
}

class TwoPhaseCommitWriter<T, Txn> implements SinkWriter<T> {
  private readonly steps: TransactionSteps<T, Txn>
  private current: Txn
  private readonly pending: Array<{ checkpointId: number; transaction: Txn }> = []
  private recovery: Promise<void> | undefined

  constructor(
    private readonly sink: TwoPhaseCommitSink<T, Txn>,
    private readonly context: SinkWriterContext,
    restored: TwoPhaseCommitWriterState[],
  ) {
    const steps = sink.steps
    this.steps = steps
    this.recovery =
      restored.length === 0
        ? undefined
        : this.recover(restored).finally(() => {
            this.recovery = undefined
          })
    this.current = steps.begin(context)
  }

  write(value: T, timestamp: number | undefined): void {
    this.steps.write(this.current, value, timestamp)
  }

  /** Holds records back until the transactions of the checkpoint restored from are settled. */
  ready(): Promise<void> | undefined {
    return this.recovery
  }

  async snapshotState(checkpointId: number): Promise<unknown[]> {
    await this.recovery
    const steps = this.sink.steps
    const transaction = this.current
    this.current = steps.begin(this.context)
    await steps.preCommit(transaction)
    this.pending.push({ checkpointId, transaction })
    return [
      ...this.pending.map(
        (p): TwoPhaseCommitWriterState => ({
          pending: { checkpointId: p.checkpointId, transaction: steps.toState(p.transaction) },
        }),
      ),
      { open: steps.toState(this.current) },
    ]
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    while (this.pending.length > 0 && this.pending[0]!.checkpointId <= checkpointId) {
      const outcome = await this.sink.steps.commit(this.pending[0]!.transaction)
      if (outcome === 'retry-later') return
      this.pending.shift()
    }
  }

  /** End of input: commit what is left (with checkpoints, the final checkpoint already did). */
  async flush(endOfInput: boolean): Promise<void> {
    if (!endOfInput) return
    await this.recovery
    const steps = this.sink.steps
    for (const p of this.pending.splice(0)) await this.commitOrFail(p.transaction)
    await steps.preCommit(this.current)
    await this.commitOrFail(this.current)
    this.current = steps.begin(this.context)
  }

  /** Cancel or failure: the open transaction is aborted; pre-committed ones wait for the next restore. */
  async close(): Promise<void> {
    await this.sink.steps.abort(this.current)
  }

  private async recover(restored: TwoPhaseCommitWriterState[]): Promise<void> {
    const steps = this.sink.steps
    for (const entry of restored) {
      if ('pending' in entry) await this.commitOrFail(steps.fromState(entry.pending.transaction))
      else await steps.abort(steps.fromState(entry.open))
    }
  }

  private async commitOrFail(transaction: Txn): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      if ((await this.sink.steps.commit(transaction)) !== 'retry-later') return
      await new Promise((r) => setTimeout(r, 10 * 2 ** attempt))
    }
    throw new StateError(
      'ERR_COMMIT_FAILED',
      `sink ${this.sink.name}: a transaction could not be committed after 10 attempts`,
      { retriable: true },
    )
  }
}

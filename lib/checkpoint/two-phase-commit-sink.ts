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
  /**
   * The transaction as JSON-compatible data for the state of checkpoint `checkpointId` (the pending
   * transactions it names and the one open at its barrier), and back.
   */
  protected abstract toState(transaction: Txn, checkpointId: number): unknown
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
      toState: (t, c) => this.toState(t, c),
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
  toState(transaction: Txn, checkpointId: number): unknown
  fromState(state: unknown): Txn
}

/** A transaction cut at a barrier, until it is committed. */
interface CutTransaction<Txn> {
  readonly checkpointId: number
  readonly transaction: Txn
  /** Its pre-commit has finished: a completion notice may commit it. */
  preCommitted: boolean
}

/**
 * The writer of one subtask of a {@link TwoPhaseCommitSink}.
 *
 * Threading: everything runs on the subtask's mailbox, but a pre-commit is asynchronous, and a barrier
 * may come before the previous snapshot settled (a checkpoint aborted while its pre-commit runs — a
 * tolerated storage failure, a timeout — and the next one triggered on a subtask whose input has
 * ended, or an unaligned barrier). So the cut at a barrier is synchronous (the next records go to a new
 * transaction at once), the pre-commits run one after the other in barrier order, and a checkpoint's
 * state names the transactions cut before its barrier and not yet committed, pre-committed or not when
 * the barrier came: a transaction cut for a checkpoint that never completed is committed with the next
 * one that does (Flink's committer keeps such committables the same way).
 */
class TwoPhaseCommitWriter<T, Txn> implements SinkWriter<T> {
  private readonly steps: TransactionSteps<T, Txn>
  private current: Txn
  /** Cut transactions in barrier order, until committed. */
  private readonly pending: CutTransaction<Txn>[] = []
  /** The last pre-commit begun: the next one waits for it (after the restored transactions are settled). */
  private preCommits: Promise<void>
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
    this.preCommits = this.recovery ?? Promise.resolve()
    this.current = steps.begin(context)
  }

  write(value: T, timestamp: number | undefined): void {
    this.steps.write(this.current, value, timestamp)
  }

  /** Holds records back until the transactions of the checkpoint restored from are settled. */
  ready(): Promise<void> | undefined {
    return this.recovery
  }

  snapshotState(checkpointId: number): Promise<unknown[]> {
    const steps = this.steps
    const cut: CutTransaction<Txn> = { checkpointId, transaction: this.current, preCommitted: false }
    this.current = steps.begin(this.context)
    const open = this.current
    this.pending.push(cut)
    const covered = [...this.pending]
    const preCommitted = this.preCommits.then(async () => {
      await steps.preCommit(cut.transaction)
      cut.preCommitted = true
    })
    this.preCommits = preCommitted
    return preCommitted.then(() => [
      ...covered
        .filter((c) => this.pending.includes(c))
        .map(
          (c): TwoPhaseCommitWriterState => ({
            pending: { checkpointId: c.checkpointId, transaction: steps.toState(c.transaction, checkpointId) },
          }),
        ),
      { open: steps.toState(open, checkpointId) },
    ])
  }

  /** Commits, in order, every pre-committed transaction cut for `checkpointId` or an earlier checkpoint. */
  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    while (this.pending.length > 0) {
      const next = this.pending[0]!
      // not yet pre-committed: its snapshot has not settled, so it was not part of this checkpoint
      if (next.checkpointId > checkpointId || !next.preCommitted) return
      const outcome = await this.steps.commit(next.transaction)
      if (outcome === 'retry-later') return
      this.pending.shift()
    }
  }

  /** End of input: commit what is left (with checkpoints, the final checkpoint already did). */
  async flush(endOfInput: boolean): Promise<void> {
    if (!endOfInput) return
    await this.recovery
    await this.preCommits
    const steps = this.steps
    for (const p of this.pending.splice(0)) await this.commitOrFail(p.transaction)
    await steps.preCommit(this.current)
    await this.commitOrFail(this.current)
    this.current = steps.begin(this.context)
  }

  /** Cancel or failure: the open transaction is aborted; pre-committed ones wait for the next restore. */
  async close(): Promise<void> {
    await this.steps.abort(this.current)
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

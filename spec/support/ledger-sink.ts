import { randomUUID } from 'node:crypto'
import type { MessagePort } from 'node:worker_threads'
import { type CommitOutcome, TwoPhaseCommitSink } from '../../lib/checkpoint/two-phase-commit-sink.js'
import type { ThreadBridged } from '../../lib/runtime/thread-bridged.js'
import { LedgerLink, serveLedger } from './ledger-bridge.js'

/**
 * An in-memory transactional store that outlives job restarts: staged transactions become visible in
 * `committed` only when committed, and a repeated commit is recognised. Counts every outcome. It lives
 * in the thread that made it: on the worker executor, its sink's writers in the workers commit to it
 * through the coordinating thread ({@link LedgerSink}).
 */
export class Ledger<T> {
  readonly committed: T[] = []
  readonly staged = new Map<string, T[]>()
  readonly committedIds = new Set<string>()
  readonly counts = { commits: 0, repeatedCommits: 0, aborts: 0, preCommits: 0 }
}

type Txn<T> = { id: string; records: T[] }

/**
 * An exactly-once sink into a {@link Ledger}, on the two-phase-commit base. On the worker executor it is
 * thread-bridged: a writer in a worker begins its transactions and writes into them there, and asks the
 * coordinating thread's copy of the sink to pre-commit, commit, abort and restore them
 * (`ledger-bridge.ts`), so the ledger (and a subclass's overrides and fault flags) of the thread that
 * built the job sees every step, as on one thread.
 *
 * @example
 * const ledger = new Ledger<string>(); stream.sinkTo(new LedgerSink(ledger))
 */
export class LedgerSink<T> extends TwoPhaseCommitSink<T, Txn<T>> implements ThreadBridged {
  readonly name = 'ledger'
  private readonly links = new Map<number, LedgerLink<T>>()
  private bridgedSteps: TwoPhaseCommitSink<T, Txn<T>>['steps'] | undefined

  constructor(protected readonly ledger: Ledger<T>) {
    super()
  }

  /** On the coordinating thread: runs the steps the writer of `subtask`, in a worker, asks for. */
  serveBridge(_subtask: number, _parallelism: number, port: MessagePort): void {
    serveLedger<T>(
      {
        preCommit: (t) => this.preCommit(t),
        commit: (t) => this.commit(t),
        abort: (t) => this.abort(t),
        fromState: (s) => this.fromState(s),
      },
      port,
    )
  }

  /** In a worker: the writer of `subtask` asks the coordinating thread for its steps through `port`. */
  useBridge(subtask: number, port: MessagePort): void {
    this.links.set(subtask, new LedgerLink<T>(port))
  }

  /** @internal In a worker, the steps the coordinating thread runs go there. */
  override get steps(): TwoPhaseCommitSink<T, Txn<T>>['steps'] {
    if (this.links.size === 0) return super.steps
    this.bridgedSteps ??= this.bridge(super.steps)
    return this.bridgedSteps
  }

  private bridge(local: TwoPhaseCommitSink<T, Txn<T>>['steps']): TwoPhaseCommitSink<T, Txn<T>>['steps'] {
    const linkOf = new WeakMap<Txn<T>, LedgerLink<T>>()
    const restoredFrom = new WeakMap<Txn<T>, unknown>()
    const link = (t: Txn<T>): LedgerLink<T> => linkOf.get(t) ?? this.links.values().next().value!
    return {
      begin: (context) => {
        const txn = local.begin(context)
        const own = this.links.get(context.subtask)
        if (own !== undefined) linkOf.set(txn, own)
        return txn
      },
      write: local.write,
      toState: local.toState,
      fromState: (state) => {
        const txn = local.fromState(state)
        restoredFrom.set(txn, state)
        return txn
      },
      preCommit: async (t) => void (await link(t).ask('preCommit', t)),
      commit: async (t) => (await link(t).ask('commit', t, restoredFrom.get(t)))!,
      abort: async (t) => void (await link(t).ask('abort', t, restoredFrom.get(t))),
    }
  }

  protected beginTransaction(): Txn<T> {
    return { id: randomUUID(), records: [] }
  }

  protected write(txn: Txn<T>, value: T): void {
    txn.records.push(value)
  }

  protected preCommit(txn: Txn<T>): void {
    this.ledger.counts.preCommits++
    this.ledger.staged.set(txn.id, [...txn.records])
  }

  protected commit(txn: Txn<T>): CommitOutcome {
    if (this.ledger.committedIds.has(txn.id)) {
      this.ledger.counts.repeatedCommits++
      return 'already-committed'
    }
    const records = this.ledger.staged.get(txn.id)
    if (records === undefined) throw new Error(`transaction ${txn.id} was never pre-committed`)
    this.ledger.committed.push(...records)
    this.ledger.staged.delete(txn.id)
    this.ledger.committedIds.add(txn.id)
    this.ledger.counts.commits++
    return 'committed'
  }

  protected abort(txn: Txn<T>): void {
    this.ledger.counts.aborts++
    this.ledger.staged.delete(txn.id)
  }

  protected toState(txn: Txn<T>): unknown {
    return { id: txn.id }
  }

  protected fromState(state: unknown): Txn<T> {
    return { id: (state as { id: string }).id, records: [] }
  }
}

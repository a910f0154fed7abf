import { randomUUID } from 'node:crypto'
import { type CommitOutcome, TwoPhaseCommitSink } from '../../lib/checkpoint/two-phase-commit-sink.js'

/**
 * An in-memory transactional store that outlives job restarts: staged transactions become visible in
 * `committed` only when committed, and a repeated commit is recognised. Counts every outcome.
 */
export class Ledger<T> {
  readonly committed: T[] = []
  readonly staged = new Map<string, T[]>()
  readonly committedIds = new Set<string>()
  readonly counts = { commits: 0, repeatedCommits: 0, aborts: 0, preCommits: 0 }
}

type Txn<T> = { id: string; records: T[] }

/**
 * An exactly-once sink into a {@link Ledger}, on the two-phase-commit base.
 *
 * @example
 * const ledger = new Ledger<string>(); stream.sinkTo(new LedgerSink(ledger))
 */
export class LedgerSink<T> extends TwoPhaseCommitSink<T, Txn<T>> {
  readonly name = 'ledger'

  constructor(protected readonly ledger: Ledger<T>) {
    super()
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

import type { CommitOutcome } from '../../lib/checkpoint/two-phase-commit-sink.js'
import { type FaultLog, InjectedFault } from './fault-injection.js'
import { type Ledger, LedgerSink } from './ledger-sink.js'

type Txn<T> = { id: string; records: T[] }

/**
 * A {@link LedgerSink} that injects the sink faults of a plan: its pre-commit rejects at the plan's
 * pre-commit (a failing sink snapshot), or the first commit of a transaction pre-committed at or after
 * the plan's pre-commit throws (a failure between pre-commit and commit, which the restore must
 * repair by committing that transaction). The commit fault fires only in the attempt that pre-committed
 * the transaction (its completion notice or end-of-input commit), not in a restore's recommit: a
 * failing recommit is a separate test.
 *
 * @example
 * stream.sinkTo(new FaultyLedgerSink(ledger, log), { uid: 'ledger' })
 */
export class FaultyLedgerSink<T> extends LedgerSink<T> {
  /** The victim as pre-committed: the fault fires on a commit of this very object, i.e. in the attempt that pre-committed it. */
  private victim: Txn<T> | undefined

  constructor(
    ledger: Ledger<T>,
    private readonly log: FaultLog,
  ) {
    super(ledger)
  }

  protected override preCommit(txn: Txn<T>): void {
    const nth = this.ledger.counts.preCommits + 1
    if (this.log.take('sink-snapshot-rejects', (f) => nth >= f.checkpoint) !== undefined)
      throw new InjectedFault(`sink pre-commit ${nth}`)
    super.preCommit(txn)
    if (
      this.log.commitVictim === undefined &&
      txn.records.length > 0 &&
      this.log.plan.faults.some((f) => f.kind === 'commit-fails' && nth >= f.afterPreCommits)
    ) {
      this.log.commitVictim = txn.id
      this.victim = txn
    }
  }

  protected override commit(txn: Txn<T>): CommitOutcome {
    if (txn === this.victim && this.log.take('commit-fails', () => true) !== undefined)
      throw new InjectedFault(`commit of pre-committed transaction ${txn.id}`)
    return super.commit(txn)
  }
}

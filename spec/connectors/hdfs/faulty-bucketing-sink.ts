import type { CommitOutcome } from '../../../lib/checkpoint/two-phase-commit-sink.js'
import { BucketingFileSink, type BucketingFileSinkOptions } from '../../../lib/connectors/bucketing-file-sink/index.js'
import type { BucketTransaction } from '../../../lib/connectors/bucketing-file-sink/bucket-transaction.js'
import { type FaultLog, InjectedFault } from '../../support/fault-injection.js'
import { sharedSlots } from '../../support/shared-flags.js'

/**
 * The bucketing file sink with the sink faults of a plan, as FaultyLedgerSink injects them into the
 * ledger: its pre-commit rejects at the plan's pre-commit, or the first commit of a non-empty
 * transaction pre-committed at or after the plan's pre-commit throws (a failure between pre-commit and
 * commit: the restore must commit that transaction's pending files). Its pre-commits are counted in
 * memory every thread of the test shares, so on the worker executor the n-th pre-commit is the n-th
 * over all workers and restarts, as it is on one thread.
 *
 * @example
 * new FaultyBucketingSink('/out', { fileSystem: webHdfs({ url }) }, log)
 */
export class FaultyBucketingSink extends BucketingFileSink<string> {
  private readonly preCommits = sharedSlots(1)
  private victim: BucketTransaction | undefined

  constructor(
    basePath: string,
    options: BucketingFileSinkOptions<string>,
    private readonly log: FaultLog,
  ) {
    super(basePath, options)
  }

  protected override async preCommit(transaction: BucketTransaction): Promise<void> {
    const nth = Atomics.add(this.preCommits, 0, 1) + 1
    if (this.log.take('sink-snapshot-rejects', (f) => nth >= f.checkpoint) !== undefined)
      throw new InjectedFault(`sink pre-commit ${nth}`)
    await super.preCommit(transaction)
    if (
      this.log.commitVictim === undefined &&
      transaction.parts.length > 0 &&
      this.log.plan.faults.some((f) => f.kind === 'commit-fails' && nth >= f.afterPreCommits)
    ) {
      this.log.commitVictim = String(nth)
      this.victim = transaction
    }
  }

  protected override async commit(transaction: BucketTransaction): Promise<CommitOutcome> {
    if (transaction === this.victim && this.log.take('commit-fails', () => true) !== undefined)
      throw new InjectedFault(`commit of pre-committed transaction ${this.log.commitVictim}`)
    return super.commit(transaction)
  }
}

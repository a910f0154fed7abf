import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { CommitOutcome } from '../../../lib/checkpoint/two-phase-commit-sink.js'
import { basePathBucketAssigner, BucketingFileSink } from '../../../lib/connectors/bucketing-file-sink/index.js'
import type { BucketTransaction } from '../../../lib/connectors/bucketing-file-sink/bucket-transaction.js'
import { partRefs } from '../../../lib/connectors/bucketing-file-sink/bucket-transaction.js'
import { s3Writer } from '../../../lib/connectors/bucketing-file-sink/s3/index.js'
import { createLogger } from '../../../lib/logging.js'
import { checkCounts } from '../../support/fault-checks.js'
import { describePlan, FaultLog, InjectedFault, planFromSeed, seedsFromEnv } from '../../support/fault-injection.js'
import { runSchedule } from '../../support/fault-jobs.js'
import { s3ForSuite } from '../../support/s3-suite.js'
import { sharedSlots } from '../../support/shared-flags.js'
import { hiddenKeys, listKeys, readObject } from './s3-support.js'

/**
 * The exactly-once fault harness against S3 (s3rver behind the proxy of spec/support/s3-server.ts):
 * seeded schedules of the keyed count job (throw in a function, failing operator snapshot, failing
 * sink pre-commit, failing checkpoint storage — tolerated or failing the job over, as the seed draws —,
 * a crash between pre-commit and commit) write through the bucketing file sink's S3 writer; the
 * completed objects, read back, hold every count exactly once, and no multipart upload or temporary
 * object is left under the schedule's prefix.
 *
 * Replay one schedule: SEED=3 node --import tsx node_modules/uvu/bin.js spec/connectors/bucketing-file-sink 's3-exactly-once'
 */
const ExactlyOnce = suite('bucketing file sink on S3: exactly-once fault schedules')
const SPEC = 'spec/connectors/bucketing-file-sink/s3-exactly-once.spec.ts'
const BUCKET = 'exactly-once'
const s3 = s3ForSuite(ExactlyOnce, [BUCKET])

/**
 * The sink faults of a plan on the bucketing file sink, as FaultyLedgerSink injects them on the ledger:
 * a pre-commit that rejects, and a failure between pre-commit and commit (the first commit of the first
 * non-empty transaction pre-committed at or after the plan's pre-commit), in the attempt that
 * pre-committed it; the restore must complete its uploads.
 */
class FaultyBucketingSink extends BucketingFileSink<string> {
  /** Counted over every thread of the test (`sharedSlots`): the n-th pre-commit over all workers and restarts. */
  private readonly preCommits = sharedSlots(1)
  private victim: BucketTransaction | undefined

  constructor(
    prefix: string,
    private readonly log: FaultLog,
  ) {
    super(prefix, {
      writer: s3Writer({
        bucket: BUCKET,
        endpoint: s3.server.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      }),
      bucketAssigner: basePathBucketAssigner(),
      logger: createLogger({ level: 'silent' }),
    })
  }

  protected override async preCommit(txn: BucketTransaction): Promise<void> {
    const nth = Atomics.add(this.preCommits, 0, 1) + 1
    if (this.log.take('sink-snapshot-rejects', (f) => nth >= f.checkpoint) !== undefined)
      throw new InjectedFault(`sink pre-commit ${nth}`)
    await super.preCommit(txn)
    if (
      this.victim === undefined &&
      partRefs(txn).length > 0 &&
      this.log.plan.faults.some((f) => f.kind === 'commit-fails' && nth >= f.afterPreCommits)
    )
      this.victim = txn
  }

  protected override async commit(txn: BucketTransaction): Promise<CommitOutcome> {
    if (txn === this.victim && this.log.take('commit-fails', () => true) !== undefined)
      throw new InjectedFault(`commit of pre-committed transaction ${txn.id}`)
    return super.commit(txn)
  }
}

/** What the schedules did, so that a run whose faults never fired cannot pass unnoticed. */
const totals = { schedules: 0, restarts: 0, faults: 0, checkpoints: 0 }
const seeds = seedsFromEnv(100, 1, 10)

for (const seed of seeds) {
  const plan = planFromSeed(seed, {
    modes: ['exactly-once'],
    records: [200, 600],
    busyTotalMs: [8, 20],
  })
  ExactlyOnce(`seed ${seed}: the completed objects hold the keyed count exactly once; no upload is left`, async () => {
    const prefix = `seed-${seed}`
    const log = new FaultLog(plan)
    const run = await runSchedule(plan, log, { sink: new FaultyBucketingSink(prefix, log), timeoutMs: 60_000 })
    totals.schedules++
    totals.restarts += run.restarts
    totals.faults += log.fired.size
    totals.checkpoints += run.job.checkpoints().filter((c) => c.status === 'completed').length
    const keys = await listKeys(s3.client, BUCKET, `${prefix}/`)
    assert.equal(hiddenKeys(keys), [], `no temporary object left: ${describePlan(plan, SPEC)}`)
    const left = (await s3.server.uploads(BUCKET)).filter((u) => u.key.startsWith(`${prefix}/`))
    assert.equal(left, [], `no multipart upload left: ${describePlan(plan, SPEC)}`)
    const lines: string[] = []
    for (const key of keys) {
      const text = (await readObject(s3.client, BUCKET, key)).toString('utf8')
      if (text !== '') lines.push(...text.trimEnd().split('\n'))
    }
    const check = checkCounts(lines, plan.records, plan.keys, 'exactly-once')
    assert.equal(check.problems, [], describePlan(plan, SPEC))
  })
}

ExactlyOnce('the schedules failed, restarted and restored jobs (not only ran them)', () => {
  assert.is(totals.schedules, seeds.length)
  if (seeds.length < 10) return // a replayed seed or a short run need not show every kind
  assert.ok(totals.faults >= seeds.length / 2, `faults fired: ${JSON.stringify(totals)}`)
  assert.ok(totals.restarts >= seeds.length / 2, `jobs restarted: ${JSON.stringify(totals)}`)
  assert.ok(totals.checkpoints >= seeds.length, `checkpoints completed: ${JSON.stringify(totals)}`)
})

ExactlyOnce.run()

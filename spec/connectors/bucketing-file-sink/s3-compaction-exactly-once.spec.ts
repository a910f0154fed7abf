import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { basePathBucketAssigner } from '../../../lib/connectors/bucketing-file-sink/index.js'
import { s3Writer } from '../../../lib/connectors/bucketing-file-sink/s3/index.js'
import { createLogger } from '../../../lib/logging.js'
import { checkCounts } from '../../support/fault-checks.js'
import { describePlan, FaultLog, planFromSeed, seedsFromEnv } from '../../support/fault-injection.js'
import { runSchedule } from '../../support/fault-jobs.js'
import { s3ForSuite } from '../../support/s3-suite.js'
import { sharedRecord } from '../../support/shared-flags.js'
import { FaultyBucketingSink } from '../hdfs/faulty-bucketing-sink.js'
import { FORMATS, TEXT_LINES } from './bulk-support.js'
import { hiddenKeys, listKeys, readObject } from './s3-support.js'

/**
 * The seeded exactly-once fault harness (a user function throws, a snapshot fails, the sink's
 * pre-commit rejects, a checkpoint's storage write fails — tolerated or failing the job over —, a commit
 * fails between pre-commit and commit) with compaction on S3 (s3rver with the multipart extension of
 * spec/support/s3-server.ts; a bucket's parts merged every 3 checkpoints or at 4 parts), for text lines,
 * Avro and Parquet: the completed objects, decoded (avsc, hyparquet), hold the keyed count exactly once;
 * no multipart upload and no hidden object (held part, source) is left; and the schedules did merge.
 *
 * Replay one schedule: SEED=3 node --import tsx node_modules/uvu/bin.js spec/connectors/bucketing-file-sink 's3-compaction-exactly-once'
 */
const ExactlyOnce = suite('bucketing file sink with compaction on S3: exactly-once fault schedules')
const SPEC = 'spec/connectors/bucketing-file-sink/s3-compaction-exactly-once.spec.ts'
const BUCKET = 'compaction-exactly-once'
const s3 = s3ForSuite(ExactlyOnce, [BUCKET])

const totals = { schedules: 0, restarts: 0, faults: 0, merges: 0 }
const seeds = seedsFromEnv(34, 1, 4)

for (const format of [TEXT_LINES, ...FORMATS]) {
  for (const seed of seeds) {
    ExactlyOnce(`${format.name}, seed ${seed}: merged objects hold the keyed count exactly once`, async () => {
      const plan = planFromSeed(seed, {
        kinds: ['throw-in-function', 'snapshot-fails', 'sink-snapshot-rejects', 'storage-write-fails', 'commit-fails'],
        modes: ['exactly-once'],
        records: [200, 800],
        busyTotalMs: [8, 20],
      })
      const prefix = `${format.name}-${seed}`
      const log = new FaultLog(plan)
      // the sink logs its merges where it runs (a worker thread): counted in memory the threads share
      const merged = sharedRecord({ merges: 0 })
      const store = s3Writer({
        bucket: BUCKET,
        endpoint: s3.server.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      })
      const sink = new FaultyBucketingSink(
        prefix,
        {
          writer: store,
          encoder: format.encoder(),
          bucketAssigner: basePathBucketAssigner(),
          compaction: { checkpoints: 3, maxFiles: 4 },
          logger: createLogger({
            level: 'info',
            write: (line) => {
              if (line.includes('"merged part files"')) merged.merges++
            },
          }),
        },
        log,
      )
      try {
        const run = await runSchedule(plan, log, { sink, timeoutMs: 60_000 })
        totals.schedules++
        totals.restarts += run.restarts
        totals.faults += log.fired.size
        totals.merges += merged.merges
      } finally {
        store.destroy()
      }
      const keys = await listKeys(s3.client, BUCKET, `${prefix}/`)
      assert.equal(hiddenKeys(keys), [], `no held part or source left: ${describePlan(plan, SPEC)}`)
      const left = (await s3.server.uploads(BUCKET)).filter((u) => u.key.startsWith(`${prefix}/`))
      assert.equal(left, [], `no multipart upload left: ${describePlan(plan, SPEC)}`)
      const lines: string[] = []
      for (const key of keys) lines.push(...(await format.decode(await readObject(s3.client, BUCKET, key))))
      const check = checkCounts(lines, plan.records, plan.keys, 'exactly-once')
      assert.equal(check.problems, [], describePlan(plan, SPEC))
    })
  }
}

ExactlyOnce('the schedules failed, restarted jobs and merged parts (not only ran them)', () => {
  assert.is(totals.schedules, seeds.length * 3)
  if (seeds.length < 4) return
  assert.ok(totals.faults >= seeds.length, `faults fired: ${JSON.stringify(totals)}`)
  assert.ok(totals.restarts >= seeds.length, `jobs restarted: ${JSON.stringify(totals)}`)
  // a short run (the worker executor's) must still have merged
  const merges = seeds.length < 20 ? 1 : seeds.length
  assert.ok(totals.merges >= merges, `parts merged: ${JSON.stringify(totals)}`)
})

ExactlyOnce.after(() => console.log(`S3 compaction schedules: ${JSON.stringify(totals)}`))
ExactlyOnce.run()

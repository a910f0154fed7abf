import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { basePathBucketAssigner } from '../../../lib/connectors/bucketing-file-sink/index.js'
import { s3Writer } from '../../../lib/connectors/bucketing-file-sink/s3/index.js'
import { createLogger } from '../../../lib/logging.js'
import { checkCounts } from '../../support/fault-checks.js'
import { describePlan, FaultLog, planFromSeed, seedsFromEnv } from '../../support/fault-injection.js'
import { runSchedule } from '../../support/fault-jobs.js'
import { s3ForSuite } from '../../support/s3-suite.js'
import { FaultyBucketingSink } from '../hdfs/faulty-bucketing-sink.js'
import { FORMATS } from './bulk-support.js'
import { hiddenKeys, listKeys, readObject } from './s3-support.js'

/**
 * The seeded exactly-once fault harness with Avro and Parquet part files on S3 (s3rver with the
 * multipart extension of spec/support/s3-server.ts): the completed objects, decoded with avsc and
 * hyparquet, hold the keyed count exactly once, and no multipart upload or temporary object is left.
 *
 * Replay one schedule: SEED=3 node --import tsx node_modules/uvu/bin.js spec/connectors/bucketing-file-sink 'bulk-s3-exactly-once'
 */
const ExactlyOnce = suite('bucketing file sink with bulk formats on S3: exactly-once fault schedules')
const SPEC = 'spec/connectors/bucketing-file-sink/bulk-s3-exactly-once.spec.ts'
const BUCKET = 'bulk-exactly-once'
const s3 = s3ForSuite(ExactlyOnce, [BUCKET])

const totals = { schedules: 0, restarts: 0, faults: 0 }
const seeds = seedsFromEnv(25, 1, 5)

for (const format of FORMATS) {
  for (const seed of seeds) {
    ExactlyOnce(`${format.name}, seed ${seed}: the completed objects hold the keyed count exactly once`, async () => {
      const plan = planFromSeed(seed, {
        modes: ['exactly-once'],
        records: [200, 600],
        busyTotalMs: [8, 20],
      })
      const prefix = `${format.name}-${seed}`
      const log = new FaultLog(plan)
      const sink = new FaultyBucketingSink(
        prefix,
        {
          writer: s3Writer({
            bucket: BUCKET,
            endpoint: s3.server.endpoint,
            forcePathStyle: true,
            credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
          }),
          encoder: format.encoder(),
          bucketAssigner: basePathBucketAssigner(),
          logger: createLogger({ level: 'silent' }),
        },
        log,
      )
      const run = await runSchedule(plan, log, { sink, timeoutMs: 60_000 })
      totals.schedules++
      totals.restarts += run.restarts
      totals.faults += log.fired.size
      const keys = await listKeys(s3.client, BUCKET, `${prefix}/`)
      assert.equal(hiddenKeys(keys), [], `no temporary object left: ${describePlan(plan, SPEC)}`)
      const left = (await s3.server.uploads(BUCKET)).filter((u) => u.key.startsWith(`${prefix}/`))
      assert.equal(left, [], `no multipart upload left: ${describePlan(plan, SPEC)}`)
      const lines: string[] = []
      for (const key of keys) lines.push(...(await format.decode(await readObject(s3.client, BUCKET, key))))
      const check = checkCounts(lines, plan.records, plan.keys, 'exactly-once')
      assert.equal(check.problems, [], describePlan(plan, SPEC))
    })
  }
}

ExactlyOnce('the schedules failed and restarted jobs (not only ran them)', () => {
  assert.is(totals.schedules, seeds.length * FORMATS.length)
  if (seeds.length < 5) return
  assert.ok(totals.faults >= seeds.length, `faults fired: ${JSON.stringify(totals)}`)
  assert.ok(totals.restarts >= seeds.length, `jobs restarted: ${JSON.stringify(totals)}`)
})

ExactlyOnce.run()

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createLogger } from '../../../lib/logging.js'
import { planFromSeed, seedsFromEnv } from '../../support/fault-injection.js'
import { tempDir, type TempDir } from '../../support/temp-dir.js'
import { checkFormatSchedule, FORMATS } from './bulk-support.js'

/**
 * The seeded exactly-once fault harness (a user function throws, a snapshot fails, the sink's pre-commit
 * rejects, a checkpoint's storage write fails — tolerated or failing the job over, as the seed draws —, a
 * commit fails between pre-commit and commit) with the bucketing file sink writing Avro container files and Parquet files to the local disk: after each
 * schedule every finished file reads back with an independent reader (avsc, hyparquet), together they
 * hold every record of the keyed count exactly once, and no hidden file is left.
 *
 * Replay one schedule: SEED=3 node --import tsx node_modules/uvu/bin.js spec/connectors/bucketing-file-sink 'bulk-exactly-once'
 */
const ExactlyOnce = suite('bucketing file sink with bulk formats: exactly-once fault schedules')
const SPEC = 'spec/connectors/bucketing-file-sink/bulk-exactly-once.spec.ts'

const totals = { schedules: 0, restarts: 0, faults: 0 }
const seeds = seedsFromEnv(50, 1, 5)
let dir: TempDir
ExactlyOnce.before(() => {
  dir = tempDir('sluice-bulk-eo-')
})
ExactlyOnce.after(() => dir?.remove())

for (const format of FORMATS) {
  for (const seed of seeds) {
    ExactlyOnce(`${format.name}, seed ${seed}: the finished files hold the keyed count exactly once`, async () => {
      const plan = planFromSeed(seed, {
        kinds: ['throw-in-function', 'snapshot-fails', 'sink-snapshot-rejects', 'storage-write-fails', 'commit-fails'],
        modes: ['exactly-once'],
        records: [200, 800],
        busyTotalMs: [8, 20],
      })
      const run = await checkFormatSchedule(
        plan,
        `${dir.path}/${format.name}-${seed}`,
        format,
        { logger: createLogger({ level: 'silent' }) },
        SPEC,
      )
      totals.schedules++
      totals.restarts += run.restarts
      totals.faults += run.faults
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

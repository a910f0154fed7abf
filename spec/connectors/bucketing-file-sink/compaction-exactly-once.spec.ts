import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createLogger } from '../../../lib/logging.js'
import { planFromSeed, seedsFromEnv } from '../../support/fault-injection.js'
import { sharedRecord } from '../../support/shared-flags.js'
import { tempDir, type TempDir } from '../../support/temp-dir.js'
import { checkFormatSchedule, FORMATS, TEXT_LINES } from './bulk-support.js'

/**
 * The seeded exactly-once fault harness (a user function throws, a snapshot fails, the sink's
 * pre-commit rejects, a checkpoint's storage write fails — tolerated or failing the job over —, a commit
 * fails between pre-commit and commit) with compaction on (a bucket's parts merged every 3 checkpoints or
 * at 4 parts), for text lines, Avro and Parquet on the local disk: the finished files, read back, hold
 * every record of the keyed count exactly once, no hidden file (held part, source, merged file) is left,
 * and the schedules did merge parts.
 *
 * Replay one schedule: SEED=3 node --import tsx node_modules/uvu/bin.js spec/connectors/bucketing-file-sink 'compaction-exactly-once'
 */
const ExactlyOnce = suite('bucketing file sink with compaction: exactly-once fault schedules')
const SPEC = 'spec/connectors/bucketing-file-sink/compaction-exactly-once.spec.ts'

const totals = { schedules: 0, restarts: 0, faults: 0, merges: 0 }
const seeds = seedsFromEnv(34, 1, 6)
let dir: TempDir
ExactlyOnce.before(() => {
  dir = tempDir('sluice-compaction-eo-')
})
ExactlyOnce.after(() => dir?.remove())

for (const format of [TEXT_LINES, ...FORMATS]) {
  for (const seed of seeds) {
    ExactlyOnce(`${format.name}, seed ${seed}: merged files hold the keyed count exactly once`, async () => {
      const plan = planFromSeed(seed, {
        kinds: ['throw-in-function', 'snapshot-fails', 'sink-snapshot-rejects', 'storage-write-fails', 'commit-fails'],
        modes: ['exactly-once'],
        records: [200, 800],
        busyTotalMs: [8, 20],
      })
      // the sink logs its merges where it runs (a worker thread): counted in memory the threads share
      const merged = sharedRecord({ merges: 0 })
      const logger = createLogger({
        level: 'info',
        write: (line) => {
          if (line.includes('"merged part files"')) merged.merges++
        },
      })
      const run = await checkFormatSchedule(
        plan,
        `${dir.path}/${format.name}-${seed}`,
        format,
        { logger, compaction: { checkpoints: 3, maxFiles: 4 } },
        SPEC,
      )
      totals.schedules++
      totals.restarts += run.restarts
      totals.faults += run.faults
      totals.merges += merged.merges
    })
  }
}

ExactlyOnce('the schedules failed, restarted jobs and merged parts (not only ran them)', () => {
  assert.is(totals.schedules, seeds.length * 3)
  if (seeds.length < 6) return
  assert.ok(totals.faults >= seeds.length, `faults fired: ${JSON.stringify(totals)}`)
  assert.ok(totals.restarts >= seeds.length, `jobs restarted: ${JSON.stringify(totals)}`)
  // a short run (the worker executor's) must still have merged
  const merges = seeds.length < 20 ? 1 : seeds.length
  assert.ok(totals.merges >= merges, `parts merged: ${JSON.stringify(totals)}`)
})

ExactlyOnce.after(() => console.log(`compaction schedules: ${JSON.stringify(totals)}`))
ExactlyOnce.run()

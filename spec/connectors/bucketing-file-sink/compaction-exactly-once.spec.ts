import { readFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { textLines } from '../../../lib/connectors/bucketing-file-sink/index.js'
import { createLogger } from '../../../lib/logging.js'
import { checkCounts } from '../../support/fault-checks.js'
import { describePlan, FaultLog, planFromSeed, seedsFromEnv } from '../../support/fault-injection.js'
import { runSchedule } from '../../support/fault-jobs.js'
import { tempDir, type TempDir } from '../../support/temp-dir.js'
import { FaultyBucketingSink } from '../hdfs/faulty-bucketing-sink.js'
import { FORMATS, type Format } from './bulk-support.js'
import { filesUnder, finishedFiles } from './support.js'

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

const TEXT: Format = {
  name: 'text',
  encoder: textLines as unknown as Format['encoder'],
  decode: async (bytes) => {
    const text = bytes.toString('utf8')
    return text === '' ? [] : text.trimEnd().split('\n')
  },
}
const totals = { schedules: 0, restarts: 0, faults: 0, merges: 0 }
const seeds = seedsFromEnv(34, 1)
let dir: TempDir
ExactlyOnce.before(() => {
  dir = tempDir('sluice-compaction-eo-')
})
ExactlyOnce.after(() => dir?.remove())

for (const format of [TEXT, ...FORMATS]) {
  for (const seed of seeds) {
    ExactlyOnce(`${format.name}, seed ${seed}: merged files hold the keyed count exactly once`, async () => {
      const plan = planFromSeed(seed, {
        kinds: ['throw-in-function', 'snapshot-fails', 'sink-snapshot-rejects', 'storage-write-fails', 'commit-fails'],
        modes: ['exactly-once'],
        records: [200, 800],
        busyTotalMs: [8, 20],
      })
      const basePath = `${dir.path}/${format.name}-${seed}`
      const log = new FaultLog(plan)
      const logger = createLogger({
        level: 'info',
        write: (line) => {
          if (line.includes('"merged part files"')) totals.merges++
        },
      })
      const sink = new FaultyBucketingSink(
        basePath,
        { encoder: format.encoder(), logger, compaction: { checkpoints: 3, maxFiles: 4 } },
        log,
      )
      const run = await runSchedule(plan, log, { sink, timeoutMs: 60_000 })
      totals.schedules++
      totals.restarts += run.restarts
      totals.faults += log.fired.size
      const hidden = filesUnder(basePath).filter((f) => f.slice(f.lastIndexOf('/') + 1).startsWith('.'))
      assert.equal(hidden, [], `no hidden file is left\n${describePlan(plan, SPEC)}`)
      const lines: string[] = []
      for (const file of finishedFiles(basePath))
        lines.push(...(await format.decode(readFileSync(`${basePath}/${file}`))))
      const check = checkCounts(lines, plan.records, plan.keys, 'exactly-once')
      assert.equal(check.problems, [], describePlan(plan, SPEC))
    })
  }
}

ExactlyOnce('the schedules failed, restarted jobs and merged parts (not only ran them)', () => {
  assert.is(totals.schedules, seeds.length * 3)
  if (seeds.length < 20) return
  assert.ok(totals.faults >= seeds.length, `faults fired: ${JSON.stringify(totals)}`)
  assert.ok(totals.restarts >= seeds.length, `jobs restarted: ${JSON.stringify(totals)}`)
  assert.ok(totals.merges >= seeds.length, `parts merged: ${JSON.stringify(totals)}`)
})

ExactlyOnce.after(() => console.log(`compaction schedules: ${JSON.stringify(totals)}`))
ExactlyOnce.run()

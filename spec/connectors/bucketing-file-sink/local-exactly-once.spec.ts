import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { textLines } from '../../../lib/connectors/bucketing-file-sink/index.js'
import { createLogger } from '../../../lib/logging.js'
import { checkCounts } from '../../support/fault-checks.js'
import { describePlan, FaultLog, planFromSeed, seedsFromEnv } from '../../support/fault-injection.js'
import { runSchedule } from '../../support/fault-jobs.js'
import { tempDir } from '../../support/temp-dir.js'
import { FaultyBucketingSink } from '../hdfs/faulty-bucketing-sink.js'
import { filesUnder } from './support.js'

/**
 * The exactly-once fault harness against the local disk: seeded schedules of the keyed count job (a
 * user function throws, a snapshot fails, the sink's pre-commit rejects, a checkpoint's storage write
 * fails — tolerated or failing the job over, as the seed draws —, a commit fails between pre-commit
 * and commit) write through the bucketing file sink; the finished files, read back, hold every count
 * exactly once, and no hidden (in-progress or pending) file is left. A tolerated storage failure while
 * a part's fsync outlasts the next barrier lost that part's records until the two-phase-commit writer
 * kept the transactions of aborted checkpoints (seeds 2 and 5).
 *
 * Replay one schedule: SEED=2 node --import tsx node_modules/uvu/bin.js spec/connectors/bucketing-file-sink 'local-exactly-once'
 */
const ExactlyOnce = suite('bucketing file sink on the local disk: exactly-once fault schedules')
const SPEC = 'spec/connectors/bucketing-file-sink/local-exactly-once.spec.ts'

const hidden = (path: string) => path.slice(path.lastIndexOf('/') + 1).startsWith('.')

/** What the schedules did, so that a run whose faults never fired cannot pass unnoticed. */
const totals = { schedules: 0, restarts: 0, faults: 0, tolerated: 0 }
const seeds = seedsFromEnv(100, 1, 10)

for (const seed of seeds) {
  const plan = planFromSeed(seed, {
    modes: ['exactly-once'],
    records: [300, 1_200],
    busyTotalMs: [15, 40],
  })
  ExactlyOnce(
    `seed ${seed}: the finished files hold the keyed count exactly once; no hidden file is left`,
    async () => {
      const dir = tempDir('sluice-local-exactly-once-')
      try {
        const log = new FaultLog(plan)
        const sink = new FaultyBucketingSink(
          dir.path,
          { encoder: textLines(), logger: createLogger({ level: 'silent' }) },
          log,
        )
        const run = await runSchedule(plan, log, { sink, timeoutMs: 60_000 })
        totals.schedules++
        totals.restarts += run.restarts
        totals.faults += log.fired.size
        if (plan.tolerableFailures > 0 && log.events.some((e) => e.startsWith('storage-write-fails')))
          totals.tolerated++
        const files = filesUnder(dir.path)
        assert.equal(files.filter(hidden), [], `no in-progress or pending file is left\n${describePlan(plan, SPEC)}`)
        const lines = files.flatMap((file) => {
          const text = readFileSync(join(dir.path, file), 'utf8')
          return text === '' ? [] : text.trimEnd().split('\n')
        })
        assert.equal(checkCounts(lines, plan.records, plan.keys, 'exactly-once').problems, [], describePlan(plan, SPEC))
      } finally {
        dir.remove()
      }
    },
  )
}

ExactlyOnce('the schedules failed, restarted and tolerated failed checkpoints (not only ran them)', () => {
  assert.is(totals.schedules, seeds.length)
  if (seeds.length < 10) return // a replayed seed or a short run need not show every kind
  assert.ok(totals.faults >= seeds.length / 2, `faults fired: ${JSON.stringify(totals)}`)
  assert.ok(totals.restarts >= seeds.length / 2, `jobs restarted: ${JSON.stringify(totals)}`)
  assert.ok(totals.tolerated >= seeds.length / 10, `storage failures tolerated: ${JSON.stringify(totals)}`)
})

ExactlyOnce.run()

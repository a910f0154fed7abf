import { writeFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { BucketingTarget } from '../../support/child-jobs/bucketing-count-job.js'
import { checkCounts } from '../../support/fault-checks.js'
import { describePlan, killPlanFromSeed, seedsFromEnv, type FaultPlan } from '../../support/fault-injection.js'
import { type KillScheduleRun, runUntilFinished } from '../../support/fault-process.js'
import { s3ForSuite } from '../../support/s3-suite.js'
import { tempDir } from '../../support/temp-dir.js'
import { hiddenKeys, listKeys, readObject } from './s3-support.js'
import { filesUnder, finishedLines } from './support.js'

/**
 * Exactly-once across SIGKILL: the keyed count runs in a child process writing through the bucketing
 * file sink, to the local disk and to S3, each with and without compaction (the loopback server of this process, which outlives the
 * kills); the process is killed at seeded moments (while loading and restoring, mid-run, right after a
 * checkpoint, between a checkpoint's completion and its commits) and started again on its checkpoint
 * directory until it finishes. The finished files then hold the exact keyed count, and nothing is left
 * behind: no hidden file, temporary object or multipart upload.
 *
 * Replay one schedule: SEED=3 node --import tsx node_modules/uvu/bin.js spec/connectors/bucketing-file-sink process-kill
 */
const ProcessKill = suite('bucketing file sink: process kill')
const SPEC = 'spec/connectors/bucketing-file-sink/process-kill.spec.ts'
const SCRIPT = 'spec/support/child-jobs/bucketing-count-job.ts'
const BUCKET = 'process-kill'

const s3 = s3ForSuite(ProcessKill, [BUCKET])

/** Runs `plan` killed and restarted into `target`; fails the test with the schedule when it does not finish. */
async function runKilled(plan: FaultPlan, target: BucketingTarget, workDir: string): Promise<KillScheduleRun> {
  writeFileSync(`${workDir}/target.json`, JSON.stringify(target))
  try {
    return await runUntilFinished(SCRIPT, plan, workDir)
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${describePlan(plan, SPEC)}`)
  }
}

function assertExactCount(lines: readonly string[], plan: FaultPlan, run: KillScheduleRun): void {
  const where = `\n${describePlan(plan, SPEC)}\n  ${run.log.join('\n  ')}`
  assert.ok(run.kills >= 1, `the process was never killed${where}`)
  const check = checkCounts(lines, plan.records, plan.keys, 'exactly-once')
  assert.equal(check.problems, [], `the files are wrong: ${check.problems.join('; ')}${where}`)
  assert.is(lines.length, plan.records, where)
}

for (const seed of seedsFromEnv(2, 1)) {
  const plan = killPlanFromSeed(seed, { kills: [2, 3], records: [2_000, 4_000], busyTotalMs: [80, 150] })

  ProcessKill(`local disk, seed ${seed}: the finished files hold the keyed count exactly once`, async () => {
    const dir = tempDir('sluice-bucketing-kill-')
    try {
      const out = `${dir.path}/out`
      const run = await runKilled(plan, { kind: 'local', path: out }, dir.path)
      assertExactCount(finishedLines(out), plan, run)
      const hidden = filesUnder(out).filter((f) => f.split('/').pop()!.startsWith('.'))
      assert.equal(hidden, [], 'no in-progress or pending file left')
    } finally {
      dir.remove()
    }
  })

  ProcessKill(`local disk with compaction, seed ${seed}: merged files hold the keyed count exactly once`, async () => {
    const dir = tempDir('sluice-bucketing-kill-')
    try {
      const out = `${dir.path}/out`
      const run = await runKilled(plan, { kind: 'local', path: out, compaction: { checkpoints: 3 } }, dir.path)
      assertExactCount(finishedLines(out), plan, run)
      const hidden = filesUnder(out).filter((f) => f.split('/').pop()!.startsWith('.'))
      assert.equal(hidden, [], 'no held part, source or merged file left hidden')
    } finally {
      dir.remove()
    }
  })

  const s3Cases = [
    { name: 'S3', compaction: undefined, left: 'no temporary object left' },
    { name: 'S3 with compaction', compaction: { checkpoints: 3 }, left: 'no held part or source left hidden' },
  ]
  for (const { name, compaction, left } of s3Cases)
    ProcessKill(`${name}, seed ${seed}: the objects hold the keyed count exactly once; no upload is left`, async () => {
      const dir = tempDir('sluice-bucketing-kill-')
      const prefix = `seed-${seed}${compaction === undefined ? '' : '-compaction'}`
      try {
        const { accessKeyId, secretAccessKey } = s3.server.clientConfig.credentials
        const run = await runKilled(
          plan,
          {
            kind: 's3',
            endpoint: s3.server.endpoint,
            bucket: BUCKET,
            prefix,
            accessKeyId,
            secretAccessKey,
            compaction,
          },
          dir.path,
        )
        const keys = await listKeys(s3.client, BUCKET, `${prefix}/`)
        const lines: string[] = []
        for (const key of keys.filter((k) => hiddenKeys([k]).length === 0)) {
          const text = (await readObject(s3.client, BUCKET, key)).toString('utf8')
          if (text !== '') lines.push(...text.trimEnd().split('\n'))
        }
        assertExactCount(lines, plan, run)
        assert.equal(hiddenKeys(keys), [], left)
        const uploads = (await s3.server.uploads(BUCKET)).filter((u) => u.key.startsWith(`${prefix}/`))
        assert.equal(uploads, [], 'no multipart upload left')
      } finally {
        dir.remove()
      }
    })
}

ProcessKill.run()

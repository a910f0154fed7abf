import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createLogger } from '../../../lib/logging.js'
import { type CompactionOptions, textLines } from '../../../lib/connectors/bucketing-file-sink/index.js'
import { webHdfs, type WebHdfsFileSystem } from '../../../lib/connectors/hdfs/index.js'
import { checkCounts } from '../../support/fault-checks.js'
import { writeFileSync } from 'node:fs'
import type { BucketingTarget } from '../../support/child-jobs/bucketing-count-job.js'
import { describePlan, FaultLog, killPlanFromSeed, planFromSeed, seedsFromEnv } from '../../support/fault-injection.js'
import { runUntilFinished } from '../../support/fault-process.js'
import { tempDir } from '../../support/temp-dir.js'
import { runSchedule } from '../../support/fault-jobs.js'
import { type HdfsServer, startHdfs } from '../../support/hdfs-server.js'
import { FORMATS, TEXT_LINES } from '../bucketing-file-sink/bulk-support.js'
import { FaultyBucketingSink } from './faulty-bucketing-sink.js'

/**
 * The bucketing file sink writing to a real HDFS over WebHDFS under the seeded exactly-once fault
 * harness (a user function throws, a snapshot fails, the sink's pre-commit rejects, a checkpoint's
 * storage write fails — tolerated or failing the job over, as the seed draws —, a commit fails between
 * pre-commit and commit): after each schedule the finished files, read back through WebHDFS, hold
 * every record of the keyed count exactly once, and no hidden (in-progress or pending) file is left.
 * One cluster for the file, one directory per schedule. Then a job process
 * (spec/support/child-jobs/bucketing-count-job.ts) is SIGKILLed at seeded moments and started again on
 * its checkpoints until it finishes, with the same check. The bulk formats (Avro, Parquet) and compaction
 * (text lines, Avro, Parquet; merged parts read back through WebHDFS) run fewer seeded schedules each.
 *
 * Replay one schedule: SEED=3 node --import tsx node_modules/uvu/bin.js spec/connectors/hdfs 'hdfs-exactly-once'
 */
const ExactlyOnce = suite('hdfs exactly-once')
const SPEC = 'spec/connectors/hdfs/hdfs-exactly-once.spec.ts'
let hdfs: HdfsServer
let fs: WebHdfsFileSystem

ExactlyOnce.before(async () => {
  hdfs = await startHdfs()
  fs = webHdfs({ url: hdfs.webHdfsUrl, user: hdfs.superuser })
})
ExactlyOnce.after(async () => {
  await hdfs?.stop()
})

/** Every file under `directory`, recursively, as full paths. */
async function filesUnder(directory: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await fs.list(directory)) {
    if (entry.isDirectory) out.push(...(await filesUnder(entry.path)))
    else out.push(entry.path)
  }
  return out
}

const hidden = (path: string) => path.slice(path.lastIndexOf('/') + 1).startsWith('.')

/** The lines of every finished file under `directory`, and the hidden files left there. */
async function readOutput(directory: string, format = TEXT_LINES): Promise<{ lines: string[]; hiddenFiles: string[] }> {
  const files = await filesUnder(directory)
  const lines: string[] = []
  for (const file of files.filter((f) => !hidden(f)))
    lines.push(...(await format.decode(Buffer.from(await fs.read(file)))))
  return { lines, hiddenFiles: files.filter(hidden) }
}

/** Schedules run this many at a time: each mostly waits on HDFS round trips, so they overlap well. */
const CONCURRENT = 5

/** Runs the schedule of `seed` into its own directory and checks what it left there. */
async function runAndCheck(seed: number, format = TEXT_LINES, compaction?: CompactionOptions): Promise<void> {
  const plan = planFromSeed(seed, {
    kinds: ['throw-in-function', 'snapshot-fails', 'sink-snapshot-rejects', 'storage-write-fails', 'commit-fails'],
    modes: ['exactly-once'],
    records: [300, 1_200],
    busyTotalMs: [15, 40],
  })
  const basePath = `/eo/${format.name}${compaction === undefined ? '' : '-compacted'}/seed-${seed}`
  const log = new FaultLog(plan)
  const sink = new FaultyBucketingSink(
    basePath,
    {
      fileSystem: webHdfs({ url: hdfs.webHdfsUrl, user: hdfs.superuser, retry: { maxRetries: 3, initialDelayMs: 20 } }),
      encoder: format.encoder(),
      logger: createLogger({ level: 'silent' }),
      compaction,
    },
    log,
  )
  await runSchedule(plan, log, { sink, timeoutMs: 90_000 })
  const { lines, hiddenFiles } = await readOutput(basePath, format)
  const check = checkCounts(lines, plan.records, plan.keys, 'exactly-once')
  assert.equal(check.problems, [], describePlan(plan, SPEC))
  assert.equal(hiddenFiles, [], `no in-progress or pending file is left\n${describePlan(plan, SPEC)}`)
}

/** Groups of CONCURRENT seeds: one test each. */
function inGroups(seeds: readonly number[], name: string, run: (seed: number) => Promise<void>): void {
  for (let i = 0; i < seeds.length; i += CONCURRENT) {
    const group = seeds.slice(i, i + CONCURRENT)
    const named = group.length === 1 ? `seed ${group[0]}` : `seeds ${group[0]}–${group.at(-1)}`
    ExactlyOnce(
      `${name}, ${named}: the finished files on HDFS hold the keyed count exactly once, no hidden file left`,
      async () => {
        const outcomes = await Promise.allSettled(group.map(run))
        const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')
        if (failures.length > 0) throw failures[0]!.reason
      },
    )
  }
}

inGroups(seedsFromEnv(100, 1, 5), 'text lines', (seed) => runAndCheck(seed))
for (const format of FORMATS) inGroups(seedsFromEnv(10, 1, 2), format.name, (seed) => runAndCheck(seed, format))
for (const format of [TEXT_LINES, ...FORMATS])
  inGroups(seedsFromEnv(5, 1, 1), `${format.name} with compaction`, (seed) =>
    runAndCheck(seed, format, { checkpoints: 3, maxFiles: 4 }),
  )

for (const [seed, compaction] of [
  ...seedsFromEnv(2, 1).map((seed) => [seed, undefined] as const),
  ...seedsFromEnv(1, 1).map((seed) => [seed, { checkpoints: 3 }] as const),
]) {
  const plan = killPlanFromSeed(seed, { kills: [2, 3], records: [1_000, 2_000], busyTotalMs: [80, 150] })
  ExactlyOnce(
    `SIGKILL${compaction === undefined ? '' : ' with compaction'}, seed ${seed}: a job process killed and restarted on its checkpoints leaves the keyed count exactly once`,
    async () => {
      const dir = tempDir('sluice-hdfs-kill-')
      const basePath = `/kill${compaction === undefined ? '' : '-compacted'}/seed-${seed}`
      try {
        const target: BucketingTarget = {
          kind: 'hdfs',
          url: hdfs.webHdfsUrl,
          user: hdfs.superuser,
          path: basePath,
          compaction,
        }
        writeFileSync(dir.file('target.json'), JSON.stringify(target))
        const run = await runUntilFinished('spec/support/child-jobs/bucketing-count-job.ts', plan, dir.path)
        const where = `\n${describePlan(plan, SPEC)}\n  ${run.log.join('\n  ')}`
        assert.ok(run.kills >= 1, `the process was never killed${where}`)
        const { lines, hiddenFiles } = await readOutput(basePath)
        assert.equal(checkCounts(lines, plan.records, plan.keys, 'exactly-once').problems, [], where)
        assert.equal(hiddenFiles, [], `no in-progress or pending file is left${where}`)
      } finally {
        dir.remove()
      }
    },
  )
}

ExactlyOnce('a DataNode restart and then a NameNode restart mid-stream: every record exactly once', async () => {
  const drawn = planFromSeed(1_000, { modes: ['exactly-once'] })
  // No injected fault: the restarts are the faults. 2 s of busy-waiting per subtask keeps the job running.
  const plan = { ...drawn, parallelism: 2, sinkParallelism: 2, records: 4_000, busyEvery: 1, busyMs: 1, faults: [] }
  const basePath = '/eo/restarts'
  const log = new FaultLog(plan)
  const sink = new FaultyBucketingSink(
    basePath,
    {
      fileSystem: webHdfs({
        url: hdfs.webHdfsUrl,
        user: hdfs.superuser,
        retry: { maxRetries: 8, initialDelayMs: 50, maxDelayMs: 1_000 },
      }),
      encoder: textLines(),
      logger: createLogger({ level: 'silent' }),
    },
    log,
  )
  const finished = async () => (await filesUnder(basePath).catch(() => [])).filter((f) => !hidden(f)).length
  const run = runSchedule(plan, log, { sink, timeoutMs: 120_000 })
  let done = false
  run.then(
    () => (done = true),
    () => (done = true),
  )
  await waitForAsync(async () => done || (await finished()) > 0, 'a first finished file')
  await hdfs.restartDataNode()
  const before = await finished()
  await waitForAsync(async () => done || (await finished()) > before, 'a finished file after the DataNode restart')
  await hdfs.restartNameNode()
  const { restarts } = await run
  const { lines, hiddenFiles } = await readOutput(basePath)
  assert.equal(checkCounts(lines, plan.records, plan.keys, 'exactly-once').problems, [])
  assert.equal(hiddenFiles, [])
  assert.ok(restarts <= 2, `${restarts} job restarts`)
})

/** Polls an async condition every 20 ms for up to 60 s. */
async function waitForAsync(condition: () => Promise<boolean>, description: string): Promise<void> {
  const deadline = performance.now() + 60_000
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`not within 60 s: ${description}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

ExactlyOnce.run()

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment, map } from '../../../lib/index.js'
import { createLogger } from '../../../lib/logging.js'
import {
  bucketingFileSink,
  DefaultRollingPolicy,
  gzip,
  keyBucketAssigner,
  OnCheckpointRollingPolicy,
  textLines,
  type BucketingFileSinkOptions,
} from '../../../lib/connectors/bucketing-file-sink/index.js'
import { tempDir, type TempDir } from '../../support/temp-dir.js'
import { finishedFiles, inProgressFiles } from './support.js'
import { busyWait } from '../../support/fault-injection.js'
import { sharedRecord, sharedSlots } from '../../support/shared-flags.js'

const N = 20_000

let dir: TempDir
test.before.each(() => {
  dir = tempDir('sluice-bucketing-e2e-')
})
test.after.each(() => dir.remove())

/** How the job of {@link runJob} is shaped and where it fails. */
interface JobShape {
  /**
   * The map throws once: at this record, or (`afterCommit`) at the first record from here on, checked
   * every 250 records, once a finished part file exists — proof that a checkpoint completed and its
   * completion reached the sink, so the restart restores it.
   */
  failAt: number
  afterCommit: boolean
  /**
   * Put the sink in its own subtasks behind a rebalance, with small network batches and few credits
   * (else it is chained to the source and the map).
   */
  rebalance: boolean
}

/**
 * Runs 1..N through a map that fails once, into the sink, and returns how many writer states each writer
 * of the restarted attempt was given (by subtask; kept in memory every thread of the test shares, as is
 * the failure's flag, so that on the worker executor it fails once and the spec sees the restore). Two shapes matter:
 * - the sink chained to the bounded source: the engine then runs each source subtask's whole input in
 *   one mailbox turn, so (today) the failure comes before any checkpoint and the restart starts afresh;
 * - the sink behind a rebalance, with batches of 64 records and 2 credits per channel: the sources
 *   then block on credit every few hundred records, barriers flow while records do, checkpoints
 *   complete mid-stream, and the failure is injected after one, so the restart restores it (pending
 *   parts committed again, parts written after it deleted, records replayed).
 */
async function runJob(options: BucketingFileSinkOptions<number>, shape: JobShape): Promise<number[]> {
  const fault = sharedRecord({ failed: false })
  // per subtask: 1 + the number of states its writer of the latest attempt was given, 0 for none created
  const restoredStates = sharedSlots(2)
  const network = shape.rebalance ? { batchSize: 64, channelCredits: 2 } : {}
  const env = StreamEnvironment.create({
    parallelism: 2,
    ...network,
    checkpointing: { intervalMs: 5 },
    restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
    logLevel: 'silent',
  })
  const mapped = env.fromSequence(1, N, { uid: 'numbers' }).pipe(
    map(
      (x: number) => {
        if (x % 250 === 0) busyWait(1)
        if (
          !fault.failed &&
          (shape.afterCommit
            ? x >= shape.failAt && x % 250 === 0 && finishedFiles(dir.path).length > 0
            : x === shape.failAt)
        ) {
          fault.failed = true
          restoredStates.fill(0)
          throw new Error('injected')
        }
        return x
      },
      { uid: 'slow' },
    ),
  )
  const sink = bucketingFileSink(dir.path, { logger: createLogger({ level: 'silent' }), ...options })
  const createWriter = sink.createWriter.bind(sink)
  sink.createWriter = (context, restored) => {
    Atomics.store(restoredStates, context.subtask, 1 + (restored?.length ?? 0))
    return createWriter(context, restored)
  }
  ;(shape.rebalance ? mapped.rebalance() : mapped).sinkTo(sink, { uid: 'files' })
  const job = env.executeAsync()
  const result = await job.result
  assert.ok(fault.failed, 'the failure was injected')
  assert.is(result.metrics.restarts, 1)
  assert.ok(
    job.checkpoints().some((c) => c.status === 'completed'),
    'checkpoints completed',
  )
  return [...restoredStates].filter((n) => n > 0).map((n) => n - 1)
}

/** Every line of every finished file, as numbers, checked against 1..N exactly (no loss, no duplicate). */
function assertExactlyOnce(lines: string[]) {
  const numbers = lines.map(Number).sort((a, b) => a - b)
  assert.is(numbers.length, N, `${numbers.length} lines for ${N} records`)
  for (let i = 0; i < N; i++)
    if (numbers[i] !== i + 1) assert.unreachable(`line ${i}: expected ${i + 1}, found ${numbers[i]}`)
  assert.equal(inProgressFiles(dir.path), [], 'no in-progress file is left')
}

test('a failure at a chosen record, sink chained to the source: every record is in exactly one finished file', async () => {
  // With the engine's current source budget this restart is from scratch (no checkpoint completes before
  // record 9,000), which exercises the cleanup of the failed attempt's pre-committed parts.
  await runJob(
    {
      encoder: textLines(),
      bucketAssigner: keyBucketAssigner((x: number) => `mod3=${x % 3}`),
      rollingPolicy: new DefaultRollingPolicy({ partSizeBytes: 4096 }),
    },
    { failAt: 9_000, afterCommit: false, rebalance: false },
  )
  assertExactlyOnceByBucket()
})

test('a failure after checkpoints restores the last one: every record is in exactly one finished file', async () => {
  const restored = await runJob(
    {
      encoder: textLines(),
      bucketAssigner: keyBucketAssigner((x: number) => `mod3=${x % 3}`),
      rollingPolicy: new DefaultRollingPolicy({ partSizeBytes: 4096 }),
    },
    { failAt: 5_000, afterCommit: true, rebalance: true },
  )
  assert.is(restored.length, 2)
  assert.ok(
    restored.every((n) => n > 0),
    "both restarted writers were given the checkpoint's transactions",
  )
  assertExactlyOnceByBucket()
})

/** Every finished file in its record's bucket, named part-<subtask>-<n>; the lines exactly 1..N. */
function assertExactlyOnceByBucket() {
  const files = finishedFiles(dir.path)
  const lines: string[] = []
  for (const file of files) {
    const [bucket, name] = file.split('/')
    assert.match(name!, /^part-[01]-\d+$/)
    const own = readFileSync(join(dir.path, file), 'utf8').trimEnd().split('\n')
    for (const line of own) assert.is(`mod3=${Number(line) % 3}`, bucket, `${line} in bucket ${bucket}`)
    lines.push(...own)
  }
  assertExactlyOnce(lines)
}

test('the same with gzip and on-checkpoint rolling: every finished part is a whole gzip stream', async () => {
  const restored = await runJob(
    {
      encoder: gzip(textLines()),
      bucketAssigner: keyBucketAssigner((x: number) => x % 2),
      rollingPolicy: new OnCheckpointRollingPolicy(),
      outputFileConfig: { partSuffix: '.gz' },
    },
    { failAt: 5_000, afterCommit: true, rebalance: true },
  )
  assert.ok(
    restored.every((n) => n > 0),
    "both restarted writers were given the checkpoint's transactions",
  )
  const files = finishedFiles(dir.path)
  assert.ok(files.every((f) => f.endsWith('.gz')))
  assertExactlyOnce(
    files.flatMap((f) =>
      gunzipSync(readFileSync(join(dir.path, f)))
        .toString('utf8')
        .trimEnd()
        .split('\n'),
    ),
  )
})

test.run()

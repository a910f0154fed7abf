import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConnectorError } from '../../../lib/errors.js'
import { createLogger } from '../../../lib/logging.js'
import {
  basePathBucketAssigner,
  bucketingFileSink,
  keyBucketAssigner,
  LocalFileSystem,
  OnCheckpointRollingPolicy,
} from '../../../lib/connectors/bucketing-file-sink/index.js'
import { tempDir, type TempDir } from '../../support/temp-dir.js'
import { waitFor } from '../../support/wait-for.js'
import {
  filesUnder,
  finishedFiles,
  inProgressFiles,
  localDiskWith,
  manualClock,
  read,
  writerContext,
} from './support.js'

const silent = createLogger({ level: 'silent' })

let dir: TempDir
test.before.each(() => {
  dir = tempDir('sluice-bucketing-')
})
test.after.each(() => dir.remove())

const IN_PROGRESS = /^\.part-0-(\d+)\.inprogress\.[0-9a-f-]{36}$/

test('a part file moves from in-progress to pending on the barrier, and to finished only when the checkpoint completes', async () => {
  const clock = manualClock()
  const sink = bucketingFileSink<string>(dir.path, { bucketAssigner: basePathBucketAssigner(), logger: silent })
  const writer = sink.createWriter(writerContext(clock))
  await writer.ready?.()
  writer.write('a', undefined)
  writer.write('b', undefined)
  assert.equal(finishedFiles(dir.path), [], 'nothing is visible while the part is written')

  const state = await writer.snapshotState!(1)
  assert.equal(finishedFiles(dir.path), [], 'pre-committed, not yet visible')
  const pending = inProgressFiles(dir.path)
  assert.is(pending.length, 1)
  assert.match(pending[0]!, IN_PROGRESS)
  assert.is(read(dir.path, pending[0]!), 'a\nb\n', 'the pending part is complete and durable before the commit')
  assert.ok(JSON.stringify(state).includes(pending[0]!), 'the checkpoint names the pending part')

  writer.write('c', undefined)
  await writer.notifyCheckpointComplete!(1)
  assert.equal(finishedFiles(dir.path), ['part-0-0'])
  assert.is(read(dir.path, 'part-0-0'), 'a\nb\n', 'only the records before the barrier')
  assert.ok(!existsSync(join(dir.path, pending[0]!)), 'the in-progress file was renamed')

  await writer.snapshotState!(2)
  await writer.notifyCheckpointComplete!(2)
  assert.equal(finishedFiles(dir.path), ['part-0-0', 'part-0-1'])
  assert.is(read(dir.path, 'part-0-1'), 'c\n')
  await writer.close()
  assert.equal(inProgressFiles(dir.path), [])
})

test('a completion notice for a later checkpoint commits the earlier pending parts too', async () => {
  const clock = manualClock()
  const writer = bucketingFileSink<string>(dir.path, {
    bucketAssigner: basePathBucketAssigner(),
    logger: silent,
  }).createWriter(writerContext(clock))
  writer.write('one', undefined)
  await writer.snapshotState!(1)
  writer.write('two', undefined)
  await writer.snapshotState!(2)
  assert.equal(finishedFiles(dir.path), [])
  await writer.notifyCheckpointComplete!(2)
  assert.equal(finishedFiles(dir.path), ['part-0-0', 'part-0-1'])
  assert.is(read(dir.path, 'part-0-0') + read(dir.path, 'part-0-1'), 'one\ntwo\n')
  await writer.close()
})

test('parts are named <prefix>-<subtask>-<counter><suffix>, one counter per subtask across buckets', async () => {
  const clock = manualClock()
  const sink = bucketingFileSink<number>(dir.path, {
    bucketAssigner: keyBucketAssigner((n: number) => (n % 2 === 0 ? 'even' : 'odd')),
    outputFileConfig: { partPrefix: 'data', partSuffix: '.txt' },
    logger: silent,
  })
  const writer = sink.createWriter(writerContext(clock, 1, 2))
  for (let i = 1; i <= 4; i++) writer.write(i, undefined)
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  const files = finishedFiles(dir.path)
  assert.is(files.length, 2)
  assert.equal(files.map((f) => f.split('/')[0]).sort(), ['even', 'odd'])
  assert.equal(files.map((f) => f.split('/')[1]).sort(), ['data-1-0.txt', 'data-1-1.txt'])
  assert.is(read(dir.path, files.find((f) => f.startsWith('even/'))!), '2\n4\n')
  await writer.close()
})

test("a restore commits the checkpoint's pending parts and deletes in-progress files written after it", async () => {
  const clock = manualClock()
  const sink = bucketingFileSink<string>(dir.path, {
    bucketAssigner: basePathBucketAssigner(),
    writeBufferBytes: 1,
    logger: silent,
  })
  const first = sink.createWriter(writerContext(clock))
  first.write('a', undefined)
  first.write('b', undefined)
  const checkpoint1 = await first.snapshotState!(1)
  first.write('c', undefined)
  await first.snapshotState!(2) // pre-committed, but checkpoint 2 never completes
  first.write('d', undefined) // written to a file (writeBufferBytes 1), in the open transaction
  await waitFor(() => inProgressFiles(dir.path).length === 3, { description: 'three in-progress files' })
  // The process dies here: `first` is never closed, and no completion notice arrives.

  const second = sink.createWriter(writerContext(clock), checkpoint1)
  await second.ready?.()
  assert.equal(finishedFiles(dir.path), ['part-0-0'], 'the pending part of checkpoint 1 is committed')
  assert.is(read(dir.path, 'part-0-0'), 'a\nb\n')
  assert.equal(inProgressFiles(dir.path), [], 'parts of the failed checkpoint 2 and of the open transaction are gone')

  // The sources replay from checkpoint 1.
  second.write('c', undefined)
  second.write('d', undefined)
  await second.snapshotState!(2)
  await second.notifyCheckpointComplete!(2)
  const files = finishedFiles(dir.path)
  assert.is(files.length, 2)
  assert.is(files[1], 'part-0-3', 'the counter continues past every name used before the failure (0..2)')
  assert.is(files.map((f) => read(dir.path, f)).join(''), 'a\nb\nc\nd\n', 'each record once')
  await second.close()
})

test("a checkpoint's state carries the pending parts of an earlier checkpoint that did not complete: restored from it, both are committed", async () => {
  const clock = manualClock()
  const sink = bucketingFileSink<string>(dir.path, { bucketAssigner: basePathBucketAssigner(), logger: silent })
  const first = sink.createWriter(writerContext(clock))
  first.write('a', undefined)
  first.write('b', undefined)
  await first.snapshotState!(1) // checkpoint 1 is declined (its storage write failed, say): no completion
  first.write('c', undefined)
  const checkpoint2 = await first.snapshotState!(2)
  assert.is(inProgressFiles(dir.path).length, 2)
  for (const part of inProgressFiles(dir.path))
    assert.ok(JSON.stringify(checkpoint2).includes(part), `checkpoint 2 names the pending part ${part}`)
  // Checkpoint 2 completes, and the process dies before the writer committed: a new writer restores it.
  const second = sink.createWriter(writerContext(clock), checkpoint2)
  await second.ready?.()
  assert.equal(finishedFiles(dir.path), ['part-0-0', 'part-0-1'], 'the pending parts of both checkpoints are committed')
  assert.is(read(dir.path, 'part-0-0') + read(dir.path, 'part-0-1'), 'a\nb\nc\n', "checkpoint 1's records are not lost")
  assert.equal(inProgressFiles(dir.path), [])
  await second.close()
})

test('part counters continue from the checkpoint even when the finished files have been moved away', async () => {
  const clock = manualClock()
  const warnings: string[] = []
  const logger = createLogger({ level: 'warn', write: (line) => warnings.push(line) })
  const sink = bucketingFileSink<string>(dir.path, { bucketAssigner: basePathBucketAssigner(), logger })
  const first = sink.createWriter(writerContext(clock))
  first.write('a', undefined)
  await first.snapshotState!(1)
  await first.notifyCheckpointComplete!(1)
  first.write('b', undefined)
  const checkpoint2 = await first.snapshotState!(2)
  await first.notifyCheckpointComplete!(2)
  await first.close()
  assert.equal(finishedFiles(dir.path), ['part-0-0', 'part-0-1'])
  // A consumer moves the finished files away; then the job restores from checkpoint 2.
  rmSync(join(dir.path, 'part-0-0'))
  rmSync(join(dir.path, 'part-0-1'))

  const second = sink.createWriter(writerContext(clock), checkpoint2)
  await second.ready?.()
  assert.ok(
    warnings.some((w) => w.includes('pending part file is gone')),
    'the recommit of a vanished part warns',
  )
  second.write('c', undefined)
  await second.snapshotState!(3)
  await second.notifyCheckpointComplete!(3)
  assert.equal(finishedFiles(dir.path), ['part-0-2'], 'not part-0-0 again: the counter came from the checkpoint')
  await second.close()
})

test('a repeated commit is recognised as already committed', async () => {
  const clock = manualClock()
  const sink = bucketingFileSink<string>(dir.path, { bucketAssigner: basePathBucketAssigner(), logger: silent })
  const writer = sink.createWriter(writerContext(clock))
  writer.write('x', undefined)
  const state = (await writer.snapshotState!(1)) as Array<{ pending?: { transaction: unknown } }>
  const txn = sink.steps.fromState(state.find((e) => e.pending !== undefined)!.pending!.transaction)
  assert.is(await sink.steps.commit(txn), 'committed')
  assert.is(await sink.steps.commit(txn), 'already-committed')
  await writer.notifyCheckpointComplete!(1) // the writer's own commit of the same transaction
  assert.equal(finishedFiles(dir.path), ['part-0-0'])
  assert.is(read(dir.path, 'part-0-0'), 'x\n')
  await writer.close()
})

test('a commit refuses to overwrite a finished file of the same name', async () => {
  const clock = manualClock()
  const writer = bucketingFileSink<string>(dir.path, {
    bucketAssigner: basePathBucketAssigner(),
    logger: silent,
  }).createWriter(writerContext(clock))
  await writer.ready?.()
  writer.write('mine', undefined)
  await writer.snapshotState!(1)
  writeFileSync(join(dir.path, 'part-0-0'), 'someone else\n')
  try {
    await writer.notifyCheckpointComplete!(1)
    assert.unreachable('the commit must fail')
  } catch (error) {
    assert.instance(error, ConnectorError)
    assert.is((error as ConnectorError).code, 'ERR_PART_FILE_EXISTS')
  }
  assert.is(read(dir.path, 'part-0-0'), 'someone else\n', 'the other file is untouched')
  await writer.close()
})

test('closing without the end of input aborts the open transaction and keeps the pending parts for the restore', async () => {
  const clock = manualClock()
  const sink = bucketingFileSink<string>(dir.path, {
    bucketAssigner: basePathBucketAssigner(),
    writeBufferBytes: 1,
    logger: silent,
  })
  const writer = sink.createWriter(writerContext(clock))
  writer.write('kept', undefined)
  const checkpoint = await writer.snapshotState!(1)
  writer.write('dropped', undefined)
  await waitFor(() => inProgressFiles(dir.path).length === 2, { description: 'the open part has its file' })
  await writer.close()
  const left = inProgressFiles(dir.path)
  assert.is(left.length, 1, 'only the pending part remains')
  assert.is(read(dir.path, left[0]!), 'kept\n')
  assert.equal(finishedFiles(dir.path), [])

  const restored = sink.createWriter(writerContext(clock), checkpoint)
  await restored.ready?.()
  assert.equal(finishedFiles(dir.path), ['part-0-0'])
  assert.is(read(dir.path, 'part-0-0'), 'kept\n')
  await restored.close()
})

test('without checkpoints, everything is committed at the end of input', async () => {
  const clock = manualClock()
  const writer = bucketingFileSink<string>(dir.path, {
    bucketAssigner: keyBucketAssigner((s: string) => s[0]!),
    rollingPolicy: new OnCheckpointRollingPolicy(),
    logger: silent,
  }).createWriter(writerContext(clock))
  for (const word of ['apple', 'avocado', 'banana']) writer.write(word, undefined)
  await writer.flush!(true)
  await writer.close()
  assert.equal(filesUnder(dir.path), ['a/part-0-0', 'b/part-0-1'])
  assert.is(read(dir.path, 'a/part-0-0'), 'apple\navocado\n')
})

test('a fresh start over existing output continues the counter instead of reusing names', async () => {
  mkdirSync(join(dir.path, 'old'), { recursive: true })
  writeFileSync(join(dir.path, 'old', 'part-0-41'), 'earlier run\n')
  writeFileSync(join(dir.path, 'part-1-99'), 'another subtask\n')
  const clock = manualClock()
  const writer = bucketingFileSink<string>(dir.path, {
    bucketAssigner: basePathBucketAssigner(),
    logger: silent,
  }).createWriter(writerContext(clock))
  writer.write('new', undefined)
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  assert.ok(existsSync(join(dir.path, 'part-0-42')))
  assert.is(read(dir.path, 'old/part-0-41'), 'earlier run\n')
  await writer.close()
})

/**
 * Subtask 0 of 2 writes 'a' and pre-commits it at checkpoint 1 (one pending part), then writes `after`
 * (each its own in-progress file); a writer restored from that checkpoint at parallelism 1 starts.
 */
async function rescaleAfterCheckpoint(after: readonly string[]) {
  const clock = manualClock()
  const warnings: string[] = []
  const sink = bucketingFileSink<string>(dir.path, {
    bucketAssigner: basePathBucketAssigner(),
    writeBufferBytes: 1,
    logger: createLogger({ level: 'warn', write: (l) => warnings.push(l) }),
  })
  const first = sink.createWriter(writerContext(clock, 0, 2))
  first.write('a', undefined)
  const checkpoint = await first.snapshotState!(1)
  for (const value of after) first.write(value, undefined)
  await waitFor(() => inProgressFiles(dir.path).length === 1 + after.length, { description: 'the in-progress files' })
  const rescaled = sink.createWriter(writerContext(clock, 0, 1), checkpoint)
  await rescaled.ready?.()
  assert.equal(finishedFiles(dir.path), ['part-0-0'], 'the pending part is committed')
  await rescaled.close()
  return warnings.filter((w) => w.includes('another parallelism')).map((w) => JSON.parse(w) as { files: number })
}

test('after a rescale, stale in-progress files are left in place rather than risk deleting a pending part', async () => {
  const warnings = await rescaleAfterCheckpoint(['b'])
  assert.is(inProgressFiles(dir.path).length, 1, 'the file written after the checkpoint is left, hidden')
  assert.is(warnings.length, 1)
  assert.is(warnings[0]!.files, 1, 'only the file written after the checkpoint, not the pending part')
})

test('a rescaled restore whose in-progress files are all restored pending parts commits them without a warning', async () => {
  assert.equal(await rescaleAfterCheckpoint([]), [], 'no warning about stale files')
})

test('a restart in the same process without a checkpoint deletes what the failed attempt left uncommitted, and only that', async () => {
  const clock = manualClock()
  const foreign = '.part-0-77.inprogress.00000000-0000-4000-8000-000000000000'
  writeFileSync(join(dir.path, foreign), 'another process, maybe a savepoint still to restore\n')
  const sink = bucketingFileSink<string>(dir.path, {
    bucketAssigner: basePathBucketAssigner(),
    writeBufferBytes: 1,
    logger: silent,
  })
  const failed = sink.createWriter(writerContext(clock))
  failed.write('a', undefined)
  await failed.snapshotState!(1) // pre-committed; the checkpoint never completes
  failed.write('b', undefined)
  await waitFor(() => inProgressFiles(dir.path).length === 3, {
    description: 'pending part, open part and the foreign file',
  })

  const restarted = sink.createWriter(writerContext(clock)) // no checkpoint: the sources start again
  await restarted.ready?.()
  assert.equal(inProgressFiles(dir.path), [foreign])
  restarted.write('a', undefined)
  restarted.write('b', undefined)
  await restarted.flush!(true)
  await restarted.close()
  const finished = finishedFiles(dir.path)
  assert.is(finished.length, 1)
  assert.ok(Number(finished[0]!.split('-')[2]) > 77, 'the counter continues past the foreign file')
  assert.is(read(dir.path, finished[0]!), 'a\nb\n')
  failed.write('late', undefined) // the fenced writer can no longer create files
  await new Promise((r) => setImmediate(r))
  assert.equal(inProgressFiles(dir.path), [foreign])
})

test('ready() pauses the input while more than maxBufferedBytes are held, and resumes once they are written', async () => {
  const clock = manualClock()
  const writer = bucketingFileSink<string>(dir.path, {
    bucketAssigner: keyBucketAssigner((s: string) => s[0]!),
    maxBufferedBytes: 1_000,
    logger: silent,
  }).createWriter(writerContext(clock))
  await writer.ready?.()
  assert.is(writer.ready?.(), undefined)
  // 26 buckets, each far below writeBufferBytes (64 KiB): only the limit makes them write.
  for (let i = 0; i < 2_600; i++) writer.write(`${String.fromCharCode(97 + (i % 26))}${i}`, undefined)
  const paused = writer.ready?.()
  assert.instance(paused, Promise)
  await paused
  assert.is(writer.ready?.(), undefined, 'running again')
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  assert.is(finishedFiles(dir.path).length, 26)
  assert.is(
    finishedFiles(dir.path)
      .map((f) => read(dir.path, f))
      .join('')
      .split('\n').length - 1,
    2_600,
  )
  await writer.close()
})

test('a store that fails makes the pre-commit fail, so the checkpoint fails instead of losing records', async () => {
  const clock = manualClock()
  const local = new LocalFileSystem()
  let creates = 0
  const flaky = localDiskWith('flaky', {
    create: async (path, options) => {
      if (++creates === 2) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
      return local.create(path, options)
    },
  })
  const writer = bucketingFileSink<string>(dir.path, {
    fileSystem: flaky,
    bucketAssigner: keyBucketAssigner((s: string) => s),
    logger: silent,
  }).createWriter(writerContext(clock))
  writer.write('x', undefined)
  writer.write('y', undefined)
  try {
    await writer.snapshotState!(1)
    assert.unreachable('the pre-commit must fail')
  } catch (error) {
    assert.match((error as Error).message, 'ENOSPC')
  }
  assert.throws(() => writer.write('z', undefined), /ENOSPC/, 'later writes fail too: the subtask must restart')
  const ready = writer.ready?.()
  assert.instance(ready, Promise, 'ready() reports the failure, so the runtime stops feeding the writer')
  await ready!.then(
    () => assert.unreachable('ready() resolved after the failed pre-commit'),
    (error: Error) => assert.match(error.message, 'ENOSPC'),
  )
  await writer.close()
  assert.equal(finishedFiles(dir.path), [])
})

test('a bucket directory moved away by a consumer is made again for late records', async () => {
  const clock = manualClock()
  const writer = bucketingFileSink<string>(dir.path, { bucketAssigner: () => 'hour=10', logger: silent }).createWriter(
    writerContext(clock),
  )
  writer.write('on time', undefined)
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  rmSync(join(dir.path, 'hour=10'), { recursive: true })
  writer.write('late', undefined)
  await writer.snapshotState!(2)
  await writer.notifyCheckpointComplete!(2)
  assert.equal(finishedFiles(dir.path), ['hour=10/part-0-1'])
  assert.is(read(dir.path, 'hour=10/part-0-1'), 'late\n')
  await writer.close()
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../../lib/errors.js'
import { createLogger } from '../../../lib/logging.js'
import {
  basePathBucketAssigner,
  bucketingFileSink,
  DefaultRollingPolicy,
  gzip,
  jsonLines,
  OnCheckpointRollingPolicy,
  textLines,
} from '../../../lib/connectors/bucketing-file-sink/index.js'
import { tempDir, type TempDir } from '../../support/temp-dir.js'
import { waitFor } from '../../support/wait-for.js'
import { finishedFiles, inProgressFiles, manualClock, read, writerContext } from './support.js'

const silent = createLogger({ level: 'silent' })

let dir: TempDir
test.before.each(() => {
  dir = tempDir('sluice-rolling-')
})
test.after.each(() => dir.remove())

const contents = (path: string) =>
  finishedFiles(path)
    .sort((a, b) => counter(a) - counter(b))
    .map((f) => read(path, f))
const counter = (name: string) => Number(name.slice(name.lastIndexOf('-') + 1))

test('rolls a part once it holds partSizeBytes', async () => {
  const clock = manualClock()
  const rollingPolicy = new DefaultRollingPolicy({ partSizeBytes: 10 })
  const writer = bucketingFileSink<string>(dir.path, {
    bucketAssigner: basePathBucketAssigner(),
    rollingPolicy,
    logger: silent,
  }).createWriter(writerContext(clock))
  for (const word of ['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee']) writer.write(word, undefined) // 5 bytes each
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  assert.equal(contents(dir.path), ['aaaa\nbbbb\n', 'cccc\ndddd\n', 'eeee\n'])
  await writer.close()
})

test('rolls a part rolloverIntervalMs after it was started, checked on write', async () => {
  const clock = manualClock()
  const rollingPolicy = new DefaultRollingPolicy({ rolloverIntervalMs: 1_000, inactivityIntervalMs: 1_000_000 })
  const writer = bucketingFileSink<string>(dir.path, {
    bucketAssigner: basePathBucketAssigner(),
    rollingPolicy,
    logger: silent,
  }).createWriter(writerContext(clock))
  writer.write('t0', undefined)
  clock.t += 500
  writer.write('t500', undefined)
  clock.t += 499
  writer.write('t999', undefined)
  clock.t += 1
  writer.write('t1000', undefined) // the part is 1000 ms old: rolled before this record
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  assert.equal(contents(dir.path), ['t0\nt500\nt999\n', 't1000\n'])
  await writer.close()
})

test('an inactive part is rolled by the periodic bucket check, and stays hidden until the checkpoint completes', async () => {
  const clock = manualClock()
  const rollingPolicy = new DefaultRollingPolicy({ inactivityIntervalMs: 500 })
  const writer = bucketingFileSink<string>(dir.path, {
    bucketAssigner: basePathBucketAssigner(),
    rollingPolicy,
    bucketCheckIntervalMs: 100,
    logger: silent,
  }).createWriter(writerContext(clock))
  await writer.ready?.()
  writer.write('early', undefined)
  clock.t += 400
  assert.is(clock.fire(), 1, 'the check timer ran')
  clock.t += 100
  assert.is(clock.fire(), 1, 'it was scheduled again')
  // 500 ms without a record: the check closed the part. Its bytes reach the file only by that close
  // (they are far below writeBufferBytes), and the file stays hidden.
  await waitFor(
    () => inProgressFiles(dir.path).length === 1 && read(dir.path, inProgressFiles(dir.path)[0]!) === 'early\n',
    { description: 'the rolled part written out' },
  )
  assert.equal(finishedFiles(dir.path), [])
  writer.write('late', undefined)
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  assert.equal(contents(dir.path), ['early\n', 'late\n'])
  await writer.close()
  assert.ok(
    clock.timers.every((t) => t.cancelled),
    'closing cancels the check timer',
  )
})

test('an active part is not rolled by the periodic check', async () => {
  const clock = manualClock()
  const rollingPolicy = new DefaultRollingPolicy({ inactivityIntervalMs: 500, rolloverIntervalMs: 10_000 })
  const writer = bucketingFileSink<string>(dir.path, {
    bucketAssigner: basePathBucketAssigner(),
    rollingPolicy,
    bucketCheckIntervalMs: 100,
    logger: silent,
  }).createWriter(writerContext(clock))
  for (let i = 0; i < 10; i++) {
    writer.write(`r${i}`, undefined)
    clock.t += 100
    clock.fire()
  }
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  assert.is(finishedFiles(dir.path).length, 1)
  await writer.close()
})

test('every checkpoint rolls the open parts, whatever the policy', async () => {
  for (const rollingPolicy of [new OnCheckpointRollingPolicy(), new DefaultRollingPolicy()]) {
    const clock = manualClock()
    const path = `${dir.path}/${rollingPolicy.name}`
    const writer = bucketingFileSink<string>(path, {
      bucketAssigner: basePathBucketAssigner(),
      rollingPolicy,
      logger: silent,
    }).createWriter(writerContext(clock))
    writer.write('1', undefined)
    writer.write('2', undefined)
    await writer.snapshotState!(1)
    writer.write('3', undefined)
    await writer.snapshotState!(2)
    await writer.notifyCheckpointComplete!(2)
    assert.equal(contents(path), ['1\n2\n', '3\n'], rollingPolicy.name)
    await writer.close()
  }
})

test('OnCheckpointRollingPolicy never rolls between checkpoints and sets no timer', async () => {
  const clock = manualClock()
  const writer = bucketingFileSink<string>(dir.path, {
    bucketAssigner: basePathBucketAssigner(),
    rollingPolicy: new OnCheckpointRollingPolicy(),
    logger: silent,
  }).createWriter(writerContext(clock))
  for (let i = 0; i < 1000; i++) {
    writer.write('x'.repeat(100), undefined)
    clock.t += 1000
  }
  assert.is(clock.timers.length, 0)
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  assert.is(finishedFiles(dir.path).length, 1)
  await writer.close()
})

test('bad options are refused with a ConfigError naming the option', () => {
  const option = (fn: () => unknown) => {
    try {
      fn()
    } catch (error) {
      assert.instance(error, ConfigError)
      return (error as ConfigError).option
    }
    throw new Error('no ConfigError')
  }
  assert.is(
    option(() => new DefaultRollingPolicy({ partSizeBytes: 0 })),
    'bucketingFileSink.rollingPolicy.partSizeBytes',
  )
  assert.is(
    option(() => new DefaultRollingPolicy({ rolloverIntervalMs: -1 })),
    'bucketingFileSink.rollingPolicy.rolloverIntervalMs',
  )
  assert.is(
    option(() => new DefaultRollingPolicy({ inactivityIntervalMs: 1.5 })),
    'bucketingFileSink.rollingPolicy.inactivityIntervalMs',
  )
  assert.is(
    option(() =>
      bucketingFileSink(dir.path, { encoder: gzip(textLines()), rollingPolicy: new DefaultRollingPolicy() }),
    ),
    'bucketingFileSink.rollingPolicy',
  )
  assert.is(
    option(() => bucketingFileSink(dir.path, { rollingPolicy: {} as never })),
    'bucketingFileSink.rollingPolicy',
  )
  assert.is(
    option(() => bucketingFileSink(dir.path, { bucketCheckIntervalMs: 0 })),
    'bucketingFileSink.bucketCheckIntervalMs',
  )
  assert.is(
    option(() => bucketingFileSink(dir.path, { partSize: 1 } as never)),
    'bucketingFileSink.partSize',
  )
  assert.is(
    option(() => bucketingFileSink('', {})),
    'bucketingFileSink.basePath',
  )
  assert.is(
    option(() => bucketingFileSink(dir.path, { outputFileConfig: { partPrefix: 'a/b' } })),
    'bucketingFileSink.outputFileConfig.partPrefix',
  )
  assert.is(
    option(() => bucketingFileSink(dir.path, { bucketAssigner: 'hourly' as never })),
    'bucketingFileSink.bucketAssigner',
  )
  // A bulk encoder defaults to on-checkpoint rolling.
  assert.instance(
    bucketingFileSink(dir.path, { encoder: gzip(jsonLines()) }).settings.rollingPolicy,
    OnCheckpointRollingPolicy,
  )
})

test.run()

import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { createLogger } from '../../../lib/logging.js'
import {
  basePathBucketAssigner,
  bucketingFileSink,
  customBucketAssigner,
  dateTimeBucketAssigner,
  DateTimePattern,
  keyBucketAssigner,
  keyDirectoryName,
  type BucketContext,
} from '../../../lib/connectors/bucketing-file-sink/index.js'
import { tempDir, type TempDir } from '../../support/temp-dir.js'
import { filesUnder, manualClock, read, writerContext } from './support.js'

const silent = createLogger({ level: 'silent' })

let dir: TempDir
test.before.each(() => {
  dir = tempDir('sluice-buckets-')
})
test.after.each(() => dir.remove())

const at = (timestamp: number | undefined, now = 0): BucketContext => ({ timestamp, currentProcessingTime: now })
const T = Date.UTC(2024, 0, 31, 23, 5, 7, 89) // 2024-01-31 23:05:07.089 UTC

test("date-time buckets: Flink's default format, one directory per hour in UTC", () => {
  const hourly = dateTimeBucketAssigner()
  assert.is(hourly.getBucketId('x', at(T)), '2024-01-31--23')
  assert.is(hourly.getBucketId('x', at(T + 55 * 60_000)), '2024-02-01--00', 'the next hour, across a month end')
  assert.is(hourly.getBucketId('x', at(T)), '2024-01-31--23', 'back again: the cache does not stick')
})

test("date-time buckets: the record's event timestamp when it has one, else processing time", () => {
  const hourly = dateTimeBucketAssigner()
  assert.is(hourly.getBucketId('x', at(T, Date.UTC(2030, 5, 1, 12))), '2024-01-31--23')
  assert.is(hourly.getBucketId('x', at(undefined, Date.UTC(2030, 5, 1, 12))), '2030-06-01--12')
})

test('date-time buckets: time zones, nested directories, quoted text, and every field', () => {
  assert.is(
    dateTimeBucketAssigner('yyyy-MM-dd--HH', 'Asia/Kolkata').getBucketId('x', at(T)),
    '2024-02-01--04',
    '+05:30',
  )
  assert.is(
    dateTimeBucketAssigner('yyyy-MM-dd--HH', 'America/New_York').getBucketId('x', at(T)),
    '2024-01-31--18',
    '-05:00',
  )
  assert.is(dateTimeBucketAssigner("yyyy/MM/dd/'hour='HH").getBucketId('x', at(T)), '2024/01/31/hour=23')
  assert.is(new DateTimePattern("yy-M-d H:mm:ss.SSS 'o''clock'", 'UTC').format(T), "24-1-31 23:05:07.089 o'clock")
  assert.is(new DateTimePattern('HH:mm:ss.S', 'Asia/Kolkata').format(T), '04:35:07.0')
  const berlin = new DateTimePattern('yyyy-MM-dd HH:mm', 'Europe/Berlin')
  assert.is(berlin.format(Date.UTC(2024, 2, 31, 0, 59)), '2024-03-31 01:59')
  assert.is(berlin.format(Date.UTC(2024, 2, 31, 1, 0)), '2024-03-31 03:00', 'daylight saving time starts')
})

test('date-time buckets: unsupported pattern letters and unknown zones are refused', () => {
  assert.throws(
    () => dateTimeBucketAssigner('yyyy-MM-dd hh'),
    (e: unknown) => e instanceof ConfigError && e.option === 'bucketingFileSink.bucketAssigner.format',
  )
  assert.throws(
    () => dateTimeBucketAssigner("yyyy 'unclosed"),
    (e: unknown) => e instanceof ConfigError && e.option === 'bucketingFileSink.bucketAssigner.format',
  )
  assert.throws(
    () => dateTimeBucketAssigner('yyyy', 'Mars/Olympus_Mons'),
    (e: unknown) => e instanceof ConfigError && e.option === 'bucketingFileSink.bucketAssigner.timeZone',
  )
})

test('the sink writes each record into the directory of its event hour', async () => {
  const clock = manualClock()
  const writer = bucketingFileSink<string>(dir.path, { logger: silent }).createWriter(writerContext(clock))
  writer.write('a', Date.UTC(2024, 4, 1, 9, 59))
  writer.write('b', Date.UTC(2024, 4, 1, 10, 0))
  writer.write('c', Date.UTC(2024, 4, 1, 9, 0))
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  const files = filesUnder(dir.path)
  assert.equal(files.map((f) => f.split('/')[0]).sort(), ['2024-05-01--09', '2024-05-01--10'])
  assert.is(read(dir.path, files.find((f) => f.startsWith('2024-05-01--09/'))!), 'a\nc\n')
  await writer.close()
})

test('key buckets: one safe, visible directory per key', async () => {
  assert.is(keyDirectoryName('a/b\\c%d'), 'a%2Fb%5Cc%25d')
  assert.is(keyDirectoryName('..'), '%2E.')
  assert.is(keyDirectoryName('_SUCCESS'), '%5FSUCCESS', 'readers skip names starting with _ or .')
  assert.is(keyDirectoryName(''), '%00')
  assert.is(keyDirectoryName('country=NO'), 'country=NO')
  const clock = manualClock()
  const writer = bucketingFileSink<{ user: string; n: number }>(dir.path, {
    bucketAssigner: keyBucketAssigner((e: { user: string }) => e.user),
    logger: silent,
  }).createWriter(writerContext(clock))
  for (const e of [
    { user: 'ann', n: 1 },
    { user: '../evil', n: 2 },
    { user: 'ann', n: 3 },
  ])
    writer.write(e, undefined)
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  assert.equal(filesUnder(dir.path), ['%2E.%2Fevil/part-0-1', 'ann/part-0-0'])
  assert.is(read(dir.path, 'ann/part-0-0'), '[object Object]\n[object Object]\n')
  await writer.close()
})

test('custom buckets: a function of the record and the context, nested paths allowed', async () => {
  const clock = manualClock(Date.UTC(2024, 6, 4))
  const seen: BucketContext[] = []
  const assigner = customBucketAssigner((e: { tenant: string }, ctx) => {
    seen.push({ ...ctx })
    return `tenant=${e.tenant}/year=${new Date(ctx.timestamp ?? ctx.currentProcessingTime).getUTCFullYear()}`
  })
  const writer = bucketingFileSink<{ tenant: string }>(dir.path, {
    bucketAssigner: assigner,
    encoder: { name: 'tenant', bulk: false, encode: (e) => `${e.tenant}\n` },
    logger: silent,
  }).createWriter(writerContext(clock))
  writer.write({ tenant: 'a' }, Date.UTC(2023, 1, 1))
  writer.write({ tenant: 'a' }, undefined)
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  assert.equal(filesUnder(dir.path), ['tenant=a/year=2023/part-0-0', 'tenant=a/year=2024/part-0-1'])
  assert.equal(seen[1], { timestamp: undefined, currentProcessingTime: Date.UTC(2024, 6, 4) })
  await writer.close()

  const plain = bucketingFileSink<number>(join(dir.path, 'plain'), {
    bucketAssigner: (n: number) => (n > 0 ? 'positive' : 'other'),
    logger: silent,
  }).createWriter(writerContext(clock))
  plain.write(5, undefined)
  await plain.snapshotState!(1)
  await plain.notifyCheckpointComplete!(1)
  assert.ok(existsSync(join(dir.path, 'plain', 'positive', 'part-0-0')))
  await plain.close()
})

test('a bucket id that would leave the base path fails the write', async () => {
  const clock = manualClock()
  const writer = bucketingFileSink<string>(dir.path, { bucketAssigner: (s: string) => s, logger: silent }).createWriter(
    writerContext(clock),
  )
  for (const bad of ['../outside', '/etc', 'a//b', 'a/./b', 'a\\b']) {
    assert.throws(
      () => writer.write(bad, undefined),
      (e: unknown) =>
        e instanceof ConnectorError && e.code === 'ERR_BUCKET_ID' && e.message.includes(JSON.stringify(bad)),
      bad,
    )
  }
  writer.write('fine/nested', undefined)
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  assert.equal(filesUnder(dir.path), ['fine/nested/part-0-0'])
  await writer.close()
})

test('the base-path assigner writes into the base path itself', async () => {
  assert.is(basePathBucketAssigner().getBucketId('x', at(T)), '')
})

test.run()

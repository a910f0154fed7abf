import type { Schema } from 'avsc'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../../lib/errors.js'
import { createLogger } from '../../../lib/logging.js'
import type { DeadLetter } from '../../../lib/runtime/output-tag.js'
import {
  bucketingFileSink,
  DefaultRollingPolicy,
  keyBucketAssigner,
  type BlockEncoder,
} from '../../../lib/connectors/bucketing-file-sink/index.js'
import { avroContainer } from '../../../lib/connectors/bucketing-file-sink/avro/index.js'
import { parquet, type ParquetColumn } from '../../../lib/connectors/bucketing-file-sink/parquet/index.js'
import { tempDir, type TempDir } from '../../support/temp-dir.js'
import { readAll, readAvro, readParquet } from './bulk-support.js'
import { finishedFiles, inProgressFiles, manualClock, writerContext } from './support.js'

const silent = createLogger({ level: 'silent' })

let dir: TempDir
test.before.each(() => {
  dir = tempDir('sluice-bulk-')
})
test.after.each(() => dir.remove())

interface Order {
  id: number
  customer: string
  total: number
  note?: string | null
}

const ORDER_SCHEMA: Schema = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'customer', type: 'string' },
    { name: 'total', type: 'double' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
}

const order = (id: number): Order => ({
  id,
  customer: `customer-${id % 7}`,
  total: id * 1.5,
  note: id % 3 === 0 ? null : `note ${id}`,
})

/**
 * Writes `ids` through a writer of the sink in two checkpoints (the first half, then the rest), commits
 * both and returns the dead letters it was given.
 */
async function writeTwoCheckpoints<T>(
  encoder: BlockEncoder<T>,
  records: readonly T[],
  writeBufferBytes: number,
): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = []
  const sink = bucketingFileSink<T>(dir.path, {
    encoder,
    bucketAssigner: keyBucketAssigner((r: T) => `b${(r as { id?: number }).id! % 2}`),
    writeBufferBytes,
    logger: silent,
  })
  const writer = sink.createWriter({ ...writerContext(manualClock()), deadLetter: (letter) => letters.push(letter) })
  await writer.ready?.()
  const half = Math.floor(records.length / 2)
  for (const record of records.slice(0, half)) writer.write(record, undefined)
  await writer.snapshotState!(1)
  for (const record of records.slice(half)) writer.write(record, undefined)
  await writer.snapshotState!(2)
  await writer.notifyCheckpointComplete!(2)
  await writer.close()
  assert.equal(inProgressFiles(dir.path), [], 'no hidden file is left')
  return letters
}

const byId = (a: Record<string, unknown>, b: Record<string, unknown>) => Number(a.id) - Number(b.id)

for (const codec of ['null', 'deflate'] as const) {
  test(`Avro (${codec}): every record reads back with avsc, one container file per bucket and checkpoint, several blocks each`, async () => {
    const orders = Array.from({ length: 2_000 }, (_, i) => order(i + 1))
    const letters = await writeTwoCheckpoints(avroContainer<Order>(ORDER_SCHEMA, { codec }), orders, 1024)
    assert.equal(letters, [])
    const files = finishedFiles(dir.path)
    assert.is(files.length, 4, '2 buckets × 2 checkpoints')
    const back = await readAll(dir.path, files, readAvro)
    assert.equal(
      back.sort(byId),
      orders.map((o) => ({ ...o, note: o.note ?? null })),
    )
  })
}

test('Avro: a record the schema cannot encode goes to the dead-letter output naming the field; the file stays valid', async () => {
  const orders: unknown[] = [order(1), { ...order(2), total: 'lots' }, order(3), { id: 4, customer: 'x' }, order(5)]
  const letters = await writeTwoCheckpoints(avroContainer<unknown>(ORDER_SCHEMA), orders, 64 * 1024)
  assert.is(letters.length, 2)
  assert.match(letters[0]!.reason, /total is "lots", not double/)
  assert.equal(letters[0]!.record, orders[1])
  assert.is(letters[0]!.operator, 'bucketing-file-sink')
  assert.match(letters[1]!.reason, /total is undefined, not double/)
  const back = await readAll(dir.path, finishedFiles(dir.path), readAvro)
  assert.equal(
    back.sort(byId).map((r) => r.id),
    [1, 3, 5],
  )
})

const COLUMNS: ParquetColumn[] = [
  { name: 'id', type: 'INT64' },
  { name: 'small', type: 'INT32' },
  { name: 'customer', type: 'STRING' },
  { name: 'total', type: 'DOUBLE' },
  { name: 'ratio', type: 'FLOAT' },
  { name: 'paid', type: 'BOOLEAN' },
  { name: 'at', type: 'TIMESTAMP' },
  { name: 'raw', type: 'BYTE_ARRAY', nullable: true },
  { name: 'extra', type: 'JSON', nullable: true },
]

const row = (id: number) => ({
  id,
  small: -id,
  customer: `customer-${id % 7}`,
  total: id * 1.25,
  ratio: 0.5,
  paid: id % 2 === 0,
  at: new Date(1_700_000_000_000 + id),
  raw: id % 5 === 0 ? null : Uint8Array.of(id % 256, 1),
  extra: id % 4 === 0 ? null : { tags: [`t${id % 3}`], n: id },
})

test('Parquet: every type reads back with hyparquet, several row groups per file', async () => {
  const rows = Array.from({ length: 3_000 }, (_, i) => row(i + 1))
  const letters = await writeTwoCheckpoints(parquet(COLUMNS, { rowGroupBytes: 16 * 1024 }), rows, 4096)
  assert.equal(letters, [])
  const files = finishedFiles(dir.path)
  assert.is(files.length, 4, '2 buckets × 2 checkpoints')
  const back: Record<string, unknown>[] = []
  for (const file of files) {
    const { rows: fileRows, rowGroups } = await readParquet(`${dir.path}/${file}`)
    assert.ok(rowGroups > 1, `${file} has ${rowGroups} row groups`)
    back.push(...fileRows)
  }
  back.sort(byId)
  assert.is(back.length, rows.length)
  for (let i = 0; i < rows.length; i++) {
    const expected = rows[i]!
    const found = back[i]!
    assert.is(found.id, BigInt(expected.id))
    assert.is(found.small, expected.small)
    assert.is(found.customer, expected.customer)
    assert.is(found.total, expected.total)
    assert.is(found.ratio, expected.ratio)
    assert.is(found.paid, expected.paid)
    assert.equal(found.at, expected.at)
    assert.equal(
      found.raw === null ? null : Array.from(found.raw as Uint8Array),
      expected.raw && Array.from(expected.raw),
    )
    assert.equal(found.extra, expected.extra)
  }
})

test('Parquet: a record a column cannot hold goes to the dead-letter output naming the column; the file stays valid', async () => {
  const records: unknown[] = [
    row(1),
    { ...row(2), small: 2 ** 40 },
    row(3),
    { ...row(4), customer: undefined },
    { ...row(5), at: new Date(Number.NaN) },
    'not an object',
    row(7),
  ]
  const letters = await writeTwoCheckpoints(parquet<unknown>(COLUMNS), records, 64 * 1024)
  const reasons = letters.map((l) => l.reason.replace(/^.*record: /, ''))
  assert.is(reasons.length, 4)
  assert.is(reasons[0], 'column small is 1099511627776, not an integer in 32 bits (INT32)')
  assert.is(reasons[1], 'column customer (STRING, not nullable) has no value')
  assert.match(reasons[2]!, /^column at is .*, not a valid Date \(TIMESTAMP\)$/)
  assert.is(reasons[3], 'the record "not an object" is not an object')
  const back = await readAll(dir.path, finishedFiles(dir.path), async (p) => (await readParquet(p)).rows)
  assert.equal(
    back.map((r) => Number(r.id)).sort((a, b) => a - b),
    [1, 3, 7],
  )
})

test('a bulk format refuses a size or time rolling policy when the sink is built, naming the option', () => {
  for (const encoder of [avroContainer(ORDER_SCHEMA), parquet(COLUMNS)]) {
    try {
      bucketingFileSink(dir.path, { encoder, rollingPolicy: new DefaultRollingPolicy({ partSizeBytes: 1 << 20 }) })
      assert.unreachable('built')
    } catch (error) {
      assert.instance(error, ConfigError)
      assert.is((error as ConfigError).option, 'bucketingFileSink.rollingPolicy')
      assert.match((error as Error).message, /OnCheckpointRollingPolicy/)
    }
  }
})

test('schemas are checked when the encoder is built: ConfigError naming the option path', () => {
  const option = (build: () => unknown) => {
    try {
      build()
    } catch (error) {
      assert.instance(error, ConfigError)
      return (error as ConfigError).option
    }
    return assert.unreachable('built')
  }
  assert.is(
    option(() => avroContainer({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'nope' }] })),
    'bucketingFileSink.encoder.schema',
  )
  assert.is(
    option(() => avroContainer(ORDER_SCHEMA, { codec: 'zstd' as 'null' })),
    'bucketingFileSink.encoder.codec',
  )
  assert.is(
    option(() =>
      parquet([
        { name: 'a', type: 'INT32' },
        { name: 'b', type: 'DECIMAL' as 'INT32' },
      ]),
    ),
    'bucketingFileSink.encoder.columns[1].type',
  )
  assert.is(
    option(() =>
      parquet([
        { name: 'a', type: 'INT32' },
        { name: 'a', type: 'INT64' },
      ]),
    ),
    'bucketingFileSink.encoder.columns[1].name',
  )
  assert.is(
    option(() => parquet(COLUMNS, { rowGroupBytes: 0 })),
    'bucketingFileSink.encoder.rowGroupBytes',
  )
})

test.run()

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { createLogger } from '../../../lib/logging.js'
import {
  basePathBucketAssigner,
  bucketingFileSink,
  csv,
  csvRow,
  DefaultRollingPolicy,
  gzip,
  jsonLines,
  OnCheckpointRollingPolicy,
  textLines,
  type PartOutput,
} from '../../../lib/connectors/bucketing-file-sink/index.js'
import { tempDir, type TempDir } from '../../support/temp-dir.js'
import { finishedFiles, manualClock, read, writerContext } from './support.js'

const silent = createLogger({ level: 'silent' })

let dir: TempDir
test.before.each(() => {
  dir = tempDir('sluice-encoders-')
})
test.after.each(() => dir.remove())

test('CSV fields are quoted as RFC 4180 says', () => {
  assert.is(csvRow(['a', 'b,c', 'say "hi"', null, undefined, 3, true], ',', '\n'), 'a,"b,c","say ""hi""",,,3,true\n')
  assert.is(csvRow(['two\nlines', 'cr\rhere', ' spaced '], ',', '\r\n'), '"two\nlines","cr\rhere", spaced \r\n')
  assert.is(csvRow(['a;b', 'a,b'], ';', '\n'), '"a;b";a,b\n', 'the delimiter in use decides')
  assert.is(
    csvRow([new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), { k: [1, 2] }], ',', '\n'),
    '2024-01-02T03:04:05.000Z,"{""k"":[1,2]}"\n',
  )
})

test('CSV records are arrays, picked columns, or a row function', () => {
  assert.is(csv<unknown[]>().encode(['x', 1]), 'x,1\n')
  assert.is(
    csv<{ id: number; name: string }>({ columns: ['name', 'id'] }).encode({ id: 7, name: 'Ann, Jr.' }),
    '"Ann, Jr.",7\n',
  )
  assert.is(csv<{ id: number }>({ row: (r) => [r.id, r.id * 2], lineEnding: '\r\n' }).encode({ id: 2 }), '2,4\r\n')
  assert.throws(
    () => csv<unknown>().encode({ id: 1 }),
    (e: unknown) => e instanceof ConnectorError && e.code === 'ERR_ENCODE',
  )
  assert.throws(
    () => csv({ delimiter: '"' }),
    (e: unknown) => e instanceof ConfigError && e.option === 'bucketingFileSink.encoder.delimiter',
  )
  assert.throws(
    () => csv({ header: true }),
    (e: unknown) => e instanceof ConfigError && e.option === 'bucketingFileSink.encoder.header',
  )
})

test('the CSV header is written once at the start of every part file', async () => {
  const clock = manualClock()
  const sink = bucketingFileSink<{ id: number; city: string }>(dir.path, {
    encoder: csv({ columns: ['id', 'city'], header: true }),
    bucketAssigner: basePathBucketAssigner(),
    rollingPolicy: new DefaultRollingPolicy({ partSizeBytes: 25 }),
    logger: silent,
  })
  const writer = sink.createWriter(writerContext(clock))
  const rows = [
    { id: 1, city: 'Oslo' },
    { id: 2, city: 'Rio, RJ' },
    { id: 3, city: 'Lima' },
    { id: 4, city: 'Kyiv' },
  ]
  for (const row of rows) writer.write(row, undefined)
  await writer.snapshotState!(1)
  writer.write({ id: 5, city: 'Bern' }, undefined)
  await writer.snapshotState!(2)
  await writer.notifyCheckpointComplete!(2)
  const files = finishedFiles(dir.path).map((f) => read(dir.path, f))
  assert.equal(files, ['id,city\n1,Oslo\n2,"Rio, RJ"\n', 'id,city\n3,Lima\n4,Kyiv\n', 'id,city\n5,Bern\n'])
  await writer.close()
})

test('JSON lines: one document per line, line breaks inside strings escaped', () => {
  const encoder = jsonLines<unknown>()
  const line = encoder.encode({ text: 'two\nlines', n: 1 }) as string
  assert.is(line, '{"text":"two\\nlines","n":1}\n')
  assert.is(line.split('\n').length, 2)
  assert.equal(JSON.parse(line), { text: 'two\nlines', n: 1 })
  assert.is(encoder.encode('plain'), '"plain"\n')
  assert.throws(
    () => encoder.encode(undefined),
    (e: unknown) => e instanceof ConnectorError && e.code === 'ERR_ENCODE',
  )
  assert.throws(
    () => encoder.encode({ big: 1n }),
    (e: unknown) => e instanceof ConnectorError && e.code === 'ERR_ENCODE',
  )
  const withReplacer = jsonLines<unknown>({ replacer: (_k, v) => (typeof v === 'bigint' ? v.toString() : v) })
  assert.is(withReplacer.encode({ big: 1n }), '{"big":"1"}\n')
})

test('text lines: String(value), or the format function, and a newline', () => {
  assert.is(textLines<unknown>().encode(42), '42\n')
  assert.is(textLines<unknown>().encode(null), 'null\n')
  assert.is(textLines((p: { x: number; y: number }) => `${p.x}\t${p.y}`).encode({ x: 1, y: 2 }), '1\t2\n')
  assert.throws(
    () => textLines('%s' as never),
    (e: unknown) => e instanceof ConfigError && e.option === 'bucketingFileSink.encoder.format',
  )
})

test('gzip output is one complete gzip stream', async () => {
  const chunks: Uint8Array[] = []
  let ended = false
  const target: PartOutput = { write: async (c) => void chunks.push(c), end: async () => void (ended = true) }
  const encoder = gzip(textLines<number>())
  assert.ok(encoder.bulk)
  const output = encoder.wrap!(target)
  for (let batch = 0; batch < 5; batch++) {
    let text = ''
    for (let i = 0; i < 10_000; i++) text += encoder.encode(batch * 10_000 + i)
    await output.write(Buffer.from(text))
  }
  await output.end()
  assert.ok(ended, 'the underlying output is ended after the trailer')
  const lines = gunzipSync(Buffer.concat(chunks)).toString('utf8').split('\n')
  assert.is(lines.length, 50_001)
  assert.is(lines[49_999], '49999')
  assert.throws(
    () => gzip(textLines(), { level: 10 }),
    (e: unknown) => e instanceof ConfigError && e.option === 'bucketingFileSink.encoder.gzip.level',
  )
})

test('gzip through the sink: every finished part decompresses whole, the header inside each', async () => {
  const clock = manualClock()
  const sink = bucketingFileSink<[number, string]>(dir.path, {
    encoder: gzip(csv({ header: ['n', 'word'] })),
    bucketAssigner: basePathBucketAssigner(),
    rollingPolicy: new OnCheckpointRollingPolicy(),
    outputFileConfig: { partSuffix: '.csv.gz' },
    writeBufferBytes: 1024,
    logger: silent,
  })
  const writer = sink.createWriter(writerContext(clock))
  for (let i = 0; i < 5_000; i++) writer.write([i, `w,${i}`], undefined)
  await writer.snapshotState!(1)
  for (let i = 5_000; i < 6_000; i++) writer.write([i, `w,${i}`], undefined)
  await writer.snapshotState!(2)
  await writer.notifyCheckpointComplete!(2)
  await writer.close()
  const files = finishedFiles(dir.path)
  assert.equal(files, ['part-0-0.csv.gz', 'part-0-1.csv.gz'])
  const texts = files.map((f) => gunzipSync(readFileSync(join(dir.path, f))).toString('utf8'))
  for (const text of texts) assert.ok(text.startsWith('n,word\n'))
  const rows = texts.flatMap((t) => t.trimEnd().split('\n').slice(1))
  assert.is(rows.length, 6_000)
  assert.is(rows[5_999], '5999,"w,5999"')
})

test.run()

import { readFileSync, writeFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CsvFileSink } from '../../../lib/connectors/files/csv-file-sink.js'
import { csvRow } from '../../../lib/connectors/files/csv-format.js'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { tempDir, type TempDir } from '../../support/temp-dir.js'

let dir: TempDir
test.before.each(() => {
  dir = tempDir('sluice-csv-sink-')
})
test.after.each(() => dir.remove())

const context = (subtask = 0, parallelism = 1) => ({ subtask, parallelism, processingTime: systemProcessingTime })

/** A strict RFC-4180 reader, to check that what the sink writes reads back as the same fields. */
function parseCsv(text: string, fieldDelimiter = ',', rowDelimiter = '\n'): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let i = 0
  while (i < text.length) {
    let field = ''
    if (text[i] === '"') {
      i++
      for (;;) {
        const quote = text.indexOf('"', i)
        if (quote < 0) throw new Error('unterminated quoted field')
        field += text.slice(i, quote)
        if (text[quote + 1] === '"') {
          field += '"'
          i = quote + 2
        } else {
          i = quote + 1
          break
        }
      }
    } else {
      const nextField = text.indexOf(fieldDelimiter, i)
      const nextRow = text.indexOf(rowDelimiter, i)
      const stop = Math.min(nextField < 0 ? text.length : nextField, nextRow < 0 ? text.length : nextRow)
      field = text.slice(i, stop)
      i = stop
    }
    row.push(field)
    if (text.startsWith(fieldDelimiter, i)) i += fieldDelimiter.length
    else if (text.startsWith(rowDelimiter, i)) {
      i += rowDelimiter.length
      rows.push(row)
      row = []
    } else if (i < text.length) throw new Error(`garbage after a field at ${i}`)
  }
  if (row.length > 0) rows.push(row)
  return rows
}

test('quotes fields holding a delimiter, a quote or a line break (RFC 4180), and only those', () => {
  assert.is(
    csvRow(['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\rhere', '', null, undefined, 3, true], ',', '\n'),
    'plain,"a,b","say ""hi""","two\nlines","cr\rhere",,,,3,true\n',
  )
  assert.is(csvRow(['a;b', 'a,b', 'x|y'], ';', '|'), '"a;b";a,b;"x|y"|')
})

test('writes a header and one row per record, which read back as the same fields', async () => {
  const path = dir.file('out.csv')
  const sink = new CsvFileSink<[string, number, string]>(path, { header: ['word', 'count', 'note'] })
  const writer = sink.createWriter(context())
  const records: Array<[string, number, string]> = [
    ['hello, world', 2, 'plain'],
    ['quote "inside"', 3, 'multi\nline'],
    ['', 0, ' spaced '],
  ]
  for (const record of records) writer.write(record, undefined)
  await writer.close()
  const text = readFileSync(path, 'utf8')
  assert.is(text.split('\n')[0], 'word,count,note')
  assert.equal(parseCsv(text), [['word', 'count', 'note'], ...records.map((r) => r.map(String))])
})

test('takes the fields of plain objects in header order, or from the fields function', async () => {
  const byHeader = dir.file('objects.csv')
  const writer = new CsvFileSink<{ b: number; a: string; extra: boolean }>(byHeader, {
    header: ['a', 'b'],
  }).createWriter(context())
  writer.write({ b: 1, a: 'x', extra: true }, undefined)
  await writer.close()
  assert.is(readFileSync(byHeader, 'utf8'), 'a,b\nx,1\n')

  const byFunction = dir.file('fields.csv')
  const custom = new CsvFileSink<{ id: number; tags: string[] }>(byFunction, {
    fields: (e) => [e.id, e.tags.join(' '), new Date(0)],
  }).createWriter(context())
  custom.write({ id: 7, tags: ['a', 'b'] }, undefined)
  await custom.close()
  assert.is(readFileSync(byFunction, 'utf8'), '7,a b,1970-01-01T00:00:00.000Z\n')
})

test('uses custom field and row delimiters, quoting fields that contain them', async () => {
  const path = dir.file('custom.csv')
  const writer = new CsvFileSink<string[]>(path, { fieldDelimiter: ';', rowDelimiter: '\r\n' }).createWriter(context())
  writer.write(['a;1', 'b,2'], undefined)
  writer.write(['c', 'line\r\nbreak'], undefined)
  await writer.close()
  const text = readFileSync(path, 'utf8')
  assert.is(text, '"a;1";b,2\r\nc;"line\r\nbreak"\r\n')
  assert.equal(parseCsv(text, ';', '\r\n'), [
    ['a;1', 'b,2'],
    ['c', 'line\r\nbreak'],
  ])
})

test('honours the write mode and names files 1, 2 at parallelism 2, each with the header', async () => {
  const existing = dir.file('existing.csv')
  writeFileSync(existing, 'old\n')
  assert.throws(
    () => new CsvFileSink(existing).createWriter(context()),
    (e: unknown) => e instanceof ConnectorError && e.code === 'ERR_FILE_EXISTS' && e.message.includes(existing),
  )
  const overwrite = new CsvFileSink<number[]>(existing, { writeMode: 'overwrite' }).createWriter(context())
  overwrite.write([1, 2], undefined)
  await overwrite.close()
  assert.is(readFileSync(existing, 'utf8'), '1,2\n')

  const parallel = dir.file('parallel')
  const sink = new CsvFileSink<number[]>(parallel, { header: ['n'] })
  const writers = [sink.createWriter(context(0, 2)), sink.createWriter(context(1, 2))]
  writers[0]!.write([1], undefined)
  writers[1]!.write([2], undefined)
  await Promise.all(writers.map((w) => w.close()))
  assert.is(readFileSync(`${parallel}/1`, 'utf8'), 'n\n1\n')
  assert.is(readFileSync(`${parallel}/2`, 'utf8'), 'n\n2\n')
})

test('a restore continues the file without a second header; a restart without checkpoint starts it again', async () => {
  const path = dir.file('restore.csv')
  const sink = new CsvFileSink<number[]>(path, { header: ['n'] })
  const first = sink.createWriter(context())
  first.write([1], undefined)
  const states = await first.snapshotState()
  first.write([2], undefined)
  await first.close()
  const restored = sink.createWriter(context(), states)
  restored.write([2], undefined)
  await restored.close()
  assert.is(readFileSync(path, 'utf8'), 'n\n1\n2\n')

  const restarted = sink.createWriter(context())
  restarted.write([9], undefined)
  await restarted.close()
  assert.is(readFileSync(path, 'utf8'), 'n\n9\n')
})

test('rejects delimiters that cannot be told apart, naming the option', () => {
  const path = dir.file('never.csv')
  assert.throws(
    () => new CsvFileSink(path, { fieldDelimiter: '' }),
    (e: unknown) => e instanceof ConfigError && e.option === 'csvFileSink.fieldDelimiter',
  )
  assert.throws(
    () => new CsvFileSink(path, { fieldDelimiter: '"' }),
    (e: unknown) => e instanceof ConfigError && e.option === 'csvFileSink.fieldDelimiter',
  )
  assert.throws(
    () => new CsvFileSink(path, { fieldDelimiter: '\n' }),
    (e: unknown) => e instanceof ConfigError && e.option === 'csvFileSink.fieldDelimiter',
  )
  assert.throws(
    () => new CsvFileSink(path, { rowDelimiter: '' }),
    (e: unknown) => e instanceof ConfigError && e.option === 'csvFileSink.rowDelimiter',
  )
  assert.throws(
    () => new CsvFileSink(path, { header: 'a,b' as never }),
    (e: unknown) => e instanceof ConfigError && e.option === 'csvFileSink.header',
  )
})

test.run()

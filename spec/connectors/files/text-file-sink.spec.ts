import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { csvFileSink, monitorDirectory, readTextFile, textFileSink } from '../../../lib/connectors/files/index.js'
import { CsvFileSink } from '../../../lib/connectors/files/csv-file-sink.js'
import { DirectoryMonitorSource } from '../../../lib/connectors/files/directory-monitor-source.js'
import { TextFileSink } from '../../../lib/connectors/files/text-file-sink.js'
import { TextFileSource } from '../../../lib/connectors/files/text-file-source.js'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { tempDir, type TempDir } from '../../support/temp-dir.js'

let dir: TempDir
test.before.each(() => {
  dir = tempDir('sluice-text-sink-')
})
test.after.each(() => dir.remove())

const context = (subtask = 0, parallelism = 1) => ({ subtask, parallelism, processingTime: systemProcessingTime })

test('writes one line per record: strings as they are, other values as JSON', async () => {
  const path = dir.file('out.txt')
  const writer = new TextFileSink<unknown>(path).createWriter(context())
  for (const value of ['hello', { word: 'a', count: 2 }, [1, 2], 42, null]) writer.write(value, undefined)
  await writer.close()
  assert.is(readFileSync(path, 'utf8'), 'hello\n{"word":"a","count":2}\n[1,2]\n42\nnull\n')
})

test('uses the serializer when given one', async () => {
  const path = dir.file('out.tsv')
  const writer = new TextFileSink<{ id: number; name: string }>(path, {
    serializer: (e) => `${e.id}\t${e.name}`,
  }).createWriter(context())
  writer.write({ id: 1, name: 'one' }, undefined)
  writer.write({ id: 2, name: 'two' }, undefined)
  await writer.close()
  assert.is(readFileSync(path, 'utf8'), '1\tone\n2\ttwo\n')
})

test("'fail-if-exists' refuses an existing file when the writer opens it, naming the path", async () => {
  const path = dir.file('exists.txt')
  writeFileSync(path, 'precious\n')
  const sink = new TextFileSink(path)
  assert.is(sink.writeMode, 'fail-if-exists', 'the default')
  try {
    sink.createWriter(context())
    assert.unreachable('an existing file is refused')
  } catch (error) {
    assert.instance(error, ConnectorError)
    assert.is((error as ConnectorError).code, 'ERR_FILE_EXISTS')
    assert.match((error as Error).message, path)
  }
  assert.is(readFileSync(path, 'utf8'), 'precious\n', 'the existing file is untouched')

  const asFile = dir.file('file-not-dir')
  writeFileSync(asFile, 'x\n')
  assert.throws(
    () => new TextFileSink(asFile).createWriter(context(0, 2)),
    (e: unknown) => e instanceof ConnectorError && e.code === 'ERR_FILE_EXISTS' && e.message.includes(asFile),
  )
})

test("'overwrite' replaces an existing file", async () => {
  const path = dir.file('replace.txt')
  writeFileSync(path, 'old content that is longer than the new one\n')
  const writer = new TextFileSink<string>(path, { writeMode: 'overwrite' }).createWriter(context())
  writer.write('new', undefined)
  await writer.close()
  assert.is(readFileSync(path, 'utf8'), 'new\n')
})

test('at parallelism 2 the path is a directory with files 1 and 2, one per subtask', async () => {
  const path = dir.file('parallel')
  const sink = new TextFileSink<string>(path)
  const writers = [sink.createWriter(context(0, 2)), sink.createWriter(context(1, 2))]
  writers[0]!.write('from subtask 0', undefined)
  writers[1]!.write('from subtask 1', undefined)
  writers[0]!.write('again 0', undefined)
  await Promise.all(writers.map((w) => w.close()))
  assert.ok(statSync(path).isDirectory())
  assert.equal(readdirSync(path).sort(), ['1', '2'])
  assert.is(readFileSync(`${path}/1`, 'utf8'), 'from subtask 0\nagain 0\n')
  assert.is(readFileSync(`${path}/2`, 'utf8'), 'from subtask 1\n')
})

test("'overwrite' at parallelism 2 replaces a file at the path and removes files of a wider earlier run", async () => {
  const asFile = dir.file('was-a-file')
  writeFileSync(asFile, 'x\n')
  const writer = new TextFileSink<string>(asFile, { writeMode: 'overwrite' }).createWriter(context(1, 2))
  writer.write('y', undefined)
  await writer.close()
  assert.is(readFileSync(`${asFile}/2`, 'utf8'), 'y\n')

  const wide = dir.file('wide')
  const first = new TextFileSink<string>(wide)
  const firstWriters = [0, 1, 2].map((subtask) => first.createWriter(context(subtask, 3)))
  await Promise.all(firstWriters.map((w) => w.close()))
  const second = new TextFileSink<string>(wide, { writeMode: 'overwrite' })
  const secondWriters = [0, 1].map((subtask) => second.createWriter(context(subtask, 2)))
  await Promise.all(secondWriters.map((w) => w.close()))
  assert.equal(readdirSync(wide).sort(), ['1', '2'])
})

test('refuses to replace a directory with a file at parallelism 1', () => {
  const sink = new TextFileSink<string>(dir.path, { writeMode: 'overwrite' })
  assert.throws(
    () => sink.createWriter(context()),
    (e: unknown) => e instanceof ConnectorError && e.message.includes(dir.path),
  )
})

test('ready() waits while the file stream is full, and flush() resolves once everything is in the file', async () => {
  const path = dir.file('backpressure.txt')
  const writer = new TextFileSink<string>(path, { batchSize: 1 }).createWriter(context())
  assert.is(writer.ready(), undefined, 'an idle writer takes records')
  const big = 'z'.repeat(100_000)
  writer.write(big, undefined)
  const ready = writer.ready()
  assert.instance(ready, Promise, 'a write over the stream buffer makes ready() a promise')
  await ready
  assert.is(writer.ready(), undefined, 'drained')
  for (let i = 0; i < 1000; i++) writer.write(`line ${i}`, undefined)
  await writer.flush()
  const expected = `${big}\n${Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join('')}`
  assert.is(readFileSync(path, 'utf8'), expected, 'flush() wrote everything before resolving')
  await writer.close()
})

test('a restore cuts the file back to its checkpointed length, so replayed records are written once', async () => {
  const path = dir.file('restore.txt')
  const first = new TextFileSink<string>(path).createWriter(context())
  first.write('a', undefined)
  first.write('ünïcödé', undefined)
  const states = structuredClone(await first.snapshotState())
  assert.equal(states, [{ version: 1, path, length: Buffer.byteLength('a\nünïcödé\n') }])
  // Written after the checkpoint, then the job fails: the rewound sources will send these again.
  first.write('c', undefined)
  await first.close()
  assert.is(readFileSync(path, 'utf8'), 'a\nünïcödé\nc\n')

  // A new process builds the same sink (the file exists: 'fail-if-exists' must not stop the restore).
  const restored = new TextFileSink<string>(path).createWriter(context(), states)
  restored.write('c', undefined)
  restored.write('d', undefined)
  await restored.close()
  assert.is(readFileSync(path, 'utf8'), 'a\nünïcödé\nc\nd\n', 'every record once')
})

test('a restart without checkpoint starts the file again instead of failing on it', async () => {
  const path = dir.file('restart.txt')
  const sink = new TextFileSink<string>(path)
  const first = sink.createWriter(context())
  first.write('before failure', undefined)
  await first.close()
  const second = sink.createWriter(context())
  second.write('from the beginning', undefined)
  await second.close()
  assert.is(readFileSync(path, 'utf8'), 'from the beginning\n')
})

test('the factories make the file sources and sinks with their options', () => {
  writeFileSync(dir.file('in.txt'), 'x\n')
  assert.instance(readTextFile(dir.file('in.txt'), { bufferSize: 1024 }), TextFileSource)
  const monitor = monitorDirectory(dir.path, { intervalMs: 50, processOnce: true })
  assert.instance(monitor, DirectoryMonitorSource)
  assert.is(monitor.bounded, true)
  assert.is(textFileSink(dir.file('out.txt'), { writeMode: 'overwrite' }).writeMode, 'overwrite')
  const csv = csvFileSink(dir.file('out.csv'), { fieldDelimiter: ';' })
  assert.instance(csv, CsvFileSink)
  assert.is(csv.fieldDelimiter, ';')
})

test('rejects bad options, naming the option', () => {
  assert.throws(
    () => new TextFileSink(''),
    (e: unknown) => e instanceof ConfigError && e.option === 'textFileSink.path',
  )
  assert.throws(
    () => new TextFileSink(dir.file('x'), { writeMode: 'append' as never }),
    (e: unknown) => e instanceof ConfigError && e.option === 'textFileSink.writeMode',
  )
  assert.throws(
    () => new TextFileSink(dir.file('x'), { serializer: 'json' as never }),
    (e: unknown) => e instanceof ConfigError && e.option === 'textFileSink.serializer',
  )
  assert.is(existsSync(dir.file('x')), false, 'nothing is created by building a sink')
})

test.run()

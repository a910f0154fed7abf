import { closeSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { TextFileSource } from '../../../lib/connectors/files/text-file-source.js'
import { ConfigError, StateError } from '../../../lib/errors.js'
import { drainSource, SourceDriver } from '../../support/drive-source.js'
import { tempDir } from '../../support/temp-dir.js'

const dir = tempDir('sluice-text-file-')
test.after(() => dir.remove())

test('emits lines without their \\n or \\r\\n, empty lines, and a last line without newline', async () => {
  const path = dir.file('mixed.txt')
  writeFileSync(path, 'alpha\r\nbeta\n\ngamma\r\n\r\ndelta')
  assert.equal(await drainSource(new TextFileSource(path)), ['alpha', 'beta', '', 'gamma', '', 'delta'])
})

test('emits nothing for an empty file, and no empty last line after a final newline', async () => {
  const empty = dir.file('empty.txt')
  writeFileSync(empty, '')
  assert.equal(await drainSource(new TextFileSource(empty)), [])
  const terminated = dir.file('terminated.txt')
  writeFileSync(terminated, 'one\ntwo\r\n')
  assert.equal(await drainSource(new TextFileSource(terminated)), ['one', 'two'])
})

test('skips a UTF-8 byte-order mark and decodes characters cut by the buffer boundary whole', async () => {
  const path = dir.file('utf8.txt')
  const lines = ['héllo wörld ✓ 𝄞', 'ünïcödé ✓✓✓✓✓✓', 'plain']
  writeFileSync(path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\n'))]))
  assert.equal(await drainSource(new TextFileSource(path, { bufferSize: 16 })), lines)
})

test('grows the buffer for a line longer than it and emits the line whole', async () => {
  const path = dir.file('long-line.txt')
  const long = 'x'.repeat(1000)
  writeFileSync(path, `short\n${long}\nend\n`)
  assert.equal(await drainSource(new TextFileSource(path, { bufferSize: 64 })), ['short', long, 'end'])
})

test('reads a 20 MB file through a buffer of bufferSize bytes, never holding more', async () => {
  const path = dir.file('large.txt')
  const lineCount = 400_000
  const fd = openSync(path, 'w')
  let batch = ''
  for (let i = 0; i < lineCount; i++) {
    batch += `line ${String(i).padStart(7, '0')} ${'abcdefghijklmnopqrstuvwxyz0123456789'}\n`
    if (batch.length > 1 << 20) {
      writeSync(fd, batch)
      batch = ''
    }
  }
  writeSync(fd, batch)
  closeSync(fd)
  assert.ok(statSync(path).size >= 20_000_000, 'the file is at least 20 MB')

  const bufferSize = 64 * 1024
  const driver = await SourceDriver.start(new TextFileSource(path, { bufferSize }))
  let maxBuffered = 0
  let maxCapacity = 0
  await driver.run({
    timeoutMs: 8000,
    afterPoll: () => {
      maxBuffered = Math.max(maxBuffered, driver.reader.bufferedBytes)
      maxCapacity = Math.max(maxCapacity, driver.reader.bufferCapacity)
    },
  })
  await driver.close()
  assert.is(driver.records.length, lineCount)
  assert.is(driver.records[0], 'line 0000000 abcdefghijklmnopqrstuvwxyz0123456789')
  assert.is(
    driver.records[lineCount - 1],
    `line ${String(lineCount - 1).padStart(7, '0')} abcdefghijklmnopqrstuvwxyz0123456789`,
  )
  assert.ok(maxBuffered > 0 && maxBuffered <= bufferSize, `held at most ${bufferSize} bytes (held ${maxBuffered})`)
  assert.is(maxCapacity, bufferSize, 'the buffer never grew')
})

test('a snapshot holds the byte offset of the next line, and a restore resumes exactly there', async () => {
  const path = dir.file('restore.txt')
  const lines = Array.from({ length: 1000 }, (_, i) => `record ${i}${i % 7 === 0 ? ' ünïcödé' : ''}`)
  // Mixed line ends: the offset must count the '\r' of a '\r\n' too.
  const content = lines.map((line, i) => `${line}${i % 3 === 0 ? '\r\n' : '\n'}`).join('')
  writeFileSync(path, content)

  const first = await SourceDriver.start(new TextFileSource(path, { bufferSize: 128 }))
  await first.run({ maxRecords: 137 })
  const splits = first.snapshot()
  await first.close()
  assert.equal(first.records, lines.slice(0, 137))
  const expectedOffset = Buffer.byteLength(
    lines
      .slice(0, 137)
      .map((line, i) => `${line}${i % 3 === 0 ? '\r\n' : '\n'}`)
      .join(''),
  )
  assert.equal(splits, [{ path, offset: expectedOffset }])

  const resumed = await SourceDriver.start(new TextFileSource(path, { bufferSize: 128 }), { restored: splits })
  await resumed.run()
  const endSplits = resumed.snapshot()
  await resumed.close()
  assert.equal(resumed.records, lines.slice(137), 'continues with exactly the next line')
  assert.equal(endSplits, [{ path, offset: Buffer.byteLength(content) }])

  assert.equal(
    await drainSource(new TextFileSource(path), { restored: endSplits }),
    [],
    'a restore after the end reads nothing',
  )
})

test('reads the files of a directory in parallel, each file by exactly one subtask', async () => {
  const parts = tempDir('sluice-text-dir-')
  try {
    const expected: string[] = []
    for (let f = 0; f < 8; f++) {
      const lines = Array.from({ length: 5 }, (_, i) => `file${f}-line${i}`)
      expected.push(...lines)
      writeFileSync(parts.file(`part-${f}.txt`), `${lines.join('\n')}\n`)
    }
    writeFileSync(parts.file('.hidden'), 'never read\n')
    writeFileSync(parts.file('_in-progress'), 'never read\n')
    const source = new TextFileSource(parts.path)
    assert.is(source.maxParallelism, undefined, 'a directory may be read in parallel')
    const perSubtask = await Promise.all([0, 1, 2].map((subtask) => drainSource(source, { subtask, parallelism: 3 })))
    assert.equal(perSubtask.flat().sort(), expected.sort())
    assert.ok(perSubtask.filter((records) => records.length > 0).length >= 2, 'the files are spread over the subtasks')
  } finally {
    parts.remove()
  }
})

test('a single file is read by one subtask only', () => {
  const path = dir.file('single.txt')
  writeFileSync(path, 'x\n')
  assert.is(new TextFileSource(path).maxParallelism, 1)
})

test('rejects a missing path, an unsupported encoding and a corrupt restored split', async () => {
  const missing = dir.file('does-not-exist.txt')
  try {
    new TextFileSource(missing)
    assert.unreachable('a missing file is refused')
  } catch (error) {
    assert.instance(error, ConfigError)
    assert.is((error as ConfigError).option, 'readTextFile.path')
    assert.match((error as Error).message, 'does-not-exist.txt')
  }
  const path = dir.file('config.txt')
  writeFileSync(path, 'x\n')
  assert.throws(
    () => new TextFileSource(path, { encoding: 'utf16le' as never }),
    (e: unknown) => e instanceof ConfigError && e.option === 'readTextFile.encoding',
  )
  assert.throws(
    () => new TextFileSource(path, { bufferSize: 0 }),
    (e: unknown) => e instanceof ConfigError && e.option === 'readTextFile.bufferSize',
  )
  assert.throws(
    () =>
      new TextFileSource(path).createReader(
        { subtask: 0, parallelism: 1, processingTime: { now: () => 0, scheduleAt: () => () => {} } },
        [{ path, offset: -1 }],
      ),
    (e: unknown) => e instanceof StateError,
  )
})

test.run()

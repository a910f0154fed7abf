import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DirectoryMonitorSource } from '../../../lib/connectors/files/directory-monitor-source.js'
import { subtaskOfFile } from '../../../lib/connectors/files/file-assignment.js'
import { ConfigError } from '../../../lib/errors.js'
import type { Logger } from '../../../lib/logging.js'
import { drainSource, SourceDriver } from '../../support/drive-source.js'
import { tempDir, type TempDir } from '../../support/temp-dir.js'

let dir: TempDir
test.before.each(() => {
  dir = tempDir('sluice-monitor-')
})
test.after.each(() => dir.remove())

function recordingLogger(): Logger & { warnings: Array<{ message: string; fields?: Record<string, unknown> }> } {
  const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = []
  const logger = {
    warnings,
    debug() {},
    info() {},
    warn: (message: string, fields?: Record<string, unknown>) => void warnings.push({ message, fields }),
    error() {},
    child: () => logger,
  }
  return logger
}

const has =
  (...lines: string[]) =>
  (records: readonly string[]) =>
    lines.every((line) => records.includes(line))

test('reads the files present, then a new file and the lines appended to a known file', async () => {
  writeFileSync(dir.file('a.log'), 'a1\na2\n')
  const driver = await SourceDriver.start(new DirectoryMonitorSource(dir.path, { intervalMs: 20 }))
  try {
    await driver.run({ until: has('a1', 'a2') })
    writeFileSync(dir.file('b.log'), 'b1\nb2\n')
    await driver.run({ until: has('b1', 'b2') })
    appendFileSync(dir.file('a.log'), 'a3\na4\n')
    await driver.run({ until: has('a4') })
    assert.equal(driver.records, ['a1', 'a2', 'b1', 'b2', 'a3', 'a4'], 'every line once, appended lines in order')
    assert.is(driver.status === 'end', false, 'a continuous source does not end')
  } finally {
    await driver.close()
  }
})

test('holds back an unterminated last line until its newline is written', async () => {
  writeFileSync(dir.file('a.log'), 'complete\npart')
  const driver = await SourceDriver.start(new DirectoryMonitorSource(dir.path, { intervalMs: 20 }))
  try {
    await driver.run({ until: has('complete') })
    const scans = driver.reader.scans
    await driver.run({ until: () => driver.reader.scans >= scans + 3 })
    assert.equal(driver.records, ['complete'], 'the partial line waited through three scans')
    appendFileSync(dir.file('a.log'), 'ial line\nnext\n')
    await driver.run({ until: has('next') })
    assert.equal(driver.records, ['complete', 'partial line', 'next'])
  } finally {
    await driver.close()
  }
})

test('reads only names matching the pattern, never hidden or underscore files', async () => {
  writeFileSync(dir.file('app.log'), 'wanted\n')
  writeFileSync(dir.file('app.txt'), 'unwanted\n')
  writeFileSync(dir.file('.app.log'), 'hidden\n')
  writeFileSync(dir.file('_app.log'), 'in progress\n')
  const source = new DirectoryMonitorSource(dir.path, { intervalMs: 20, pattern: '*.log', processOnce: true })
  assert.equal(await drainSource(source), ['wanted'])
  const byRegExp = new DirectoryMonitorSource(dir.path, { pattern: /\.txt$/g, processOnce: true })
  assert.equal(await drainSource(byRegExp), ['unwanted'])
})

test('with processOnce reads the files of the first scan, last lines without newline included, and ends', async () => {
  writeFileSync(dir.file('1.txt'), 'x1\nx2')
  writeFileSync(dir.file('2.txt'), 'y1\r\n')
  const source = new DirectoryMonitorSource(dir.path, { processOnce: true })
  assert.is(source.bounded, true)
  assert.equal(await drainSource(source), ['x1', 'x2', 'y1'])
})

test('reads a truncated file again from its start, with a warning', async () => {
  const logger = recordingLogger()
  writeFileSync(dir.file('t.log'), 'old line 1\nold line 2\nold line 3\n')
  const driver = await SourceDriver.start(new DirectoryMonitorSource(dir.path, { intervalMs: 20, logger }))
  try {
    await driver.run({ until: has('old line 3') })
    truncateSync(dir.file('t.log'), 0)
    appendFileSync(dir.file('t.log'), 'new 1\n')
    await driver.run({ until: has('new 1') })
    assert.equal(driver.records, ['old line 1', 'old line 2', 'old line 3', 'new 1'])
    assert.is(logger.warnings.length, 1)
    assert.match(logger.warnings[0]!.message, 'truncated')
    assert.is(logger.warnings[0]!.fields?.path, dir.file('t.log'))
  } finally {
    await driver.close()
  }
})

test('reads a file replaced under its name (rotation) from its start', async () => {
  const logger = recordingLogger()
  writeFileSync(dir.file('app.log'), 'first generation\n')
  const driver = await SourceDriver.start(
    new DirectoryMonitorSource(dir.path, { intervalMs: 20, pattern: 'app.log', logger }),
  )
  try {
    await driver.run({ until: has('first generation') })
    renameSync(dir.file('app.log'), dir.file('app.log.1'))
    writeFileSync(dir.file('app.log'), 'second generation, a longer first line\n')
    await driver.run({ until: has('second generation, a longer first line') })
    assert.equal(driver.records, ['first generation', 'second generation, a longer first line'])
    assert.match(logger.warnings[0]!.message, 'replaced')
  } finally {
    await driver.close()
  }
})

test('a snapshot holds every file position, and a restore resumes each at exactly its next line', async () => {
  writeFileSync(dir.file('a.log'), 'a1\na2\na3\n')
  writeFileSync(dir.file('b.log'), 'b1\nb2\nb3\n')
  const source = new DirectoryMonitorSource(dir.path, { intervalMs: 20, bufferSize: 16 })
  const first = await SourceDriver.start(source)
  await first.run({ maxRecords: 4 })
  const splits = first.snapshot()
  await first.close()
  assert.equal(first.records, ['a1', 'a2', 'a3', 'b1'])
  assert.equal(
    splits.sort((x, y) => x.path.localeCompare(y.path)),
    [
      { path: dir.file('a.log'), offset: 9 },
      { path: dir.file('b.log'), offset: 3 },
    ],
  )

  // While the job was down: lines appended to a read file, and a new file.
  appendFileSync(dir.file('a.log'), 'a4\n')
  writeFileSync(dir.file('c.log'), 'c1\n')
  const resumed = await SourceDriver.start(source, { restored: splits })
  try {
    await resumed.run({ until: has('a4', 'b3', 'c1') })
    assert.equal(resumed.records.sort(), ['a4', 'b2', 'b3', 'c1'], 'nothing read twice, nothing skipped')
  } finally {
    await resumed.close()
  }
})

test('shares the files out by name hash: each file is read by exactly one subtask', async () => {
  const names = Array.from({ length: 10 }, (_, i) => `part-${i}.log`)
  for (const name of names) writeFileSync(dir.file(name), `${name}:1\n${name}:2\n`)
  const source = new DirectoryMonitorSource(dir.path, { intervalMs: 20 })
  const drivers = await Promise.all([0, 1].map((subtask) => SourceDriver.start(source, { subtask, parallelism: 2 })))
  try {
    const expected = names.flatMap((name) => [`${name}:1`, `${name}:2`])
    await Promise.all(
      drivers.map((driver, subtask) =>
        driver.run({ until: has(...expected.filter((line) => subtaskOfFile(line.split(':')[0]!, 2) === subtask)) }),
      ),
    )
    for (const [subtask, driver] of drivers.entries()) {
      for (const record of driver.records)
        assert.is(subtaskOfFile(record.split(':')[0]!, 2), subtask, `${record} read by its owner`)
    }
    assert.equal(drivers.flatMap((d) => d.records).sort(), expected.sort())
    assert.ok(
      drivers.every((d) => d.records.length > 0),
      'both subtasks have files',
    )
  } finally {
    await Promise.all(drivers.map((d) => d.close()))
  }
})

test('rejects a missing directory and bad options, naming the option', () => {
  assert.throws(
    () => new DirectoryMonitorSource(dir.file('nope')),
    (e: unknown) => e instanceof ConfigError && e.option === 'monitorDirectory.dir',
  )
  assert.throws(
    () => new DirectoryMonitorSource(dir.path, { intervalMs: 0 }),
    (e: unknown) => e instanceof ConfigError && e.option === 'monitorDirectory.intervalMs',
  )
  assert.throws(
    () => new DirectoryMonitorSource(dir.path, { pattern: 42 as never }),
    (e: unknown) => e instanceof ConfigError && e.option === 'monitorDirectory.pattern',
  )
  assert.throws(
    () => new DirectoryMonitorSource(dir.path, { pattern: '[abc' }),
    (e: unknown) => e instanceof ConfigError && e.option === 'monitorDirectory.pattern',
  )
})

test.run()

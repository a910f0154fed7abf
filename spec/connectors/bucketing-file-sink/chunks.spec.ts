import { readFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ChunkPool } from '../../../lib/connectors/bucketing-file-sink/chunk-pool.js'
import {
  basePathBucketAssigner,
  bucketingFileSink,
  DefaultRollingPolicy,
  keyBucketAssigner,
  LocalFileSystem,
  type FileSystem,
  type WritableFile,
} from '../../../lib/connectors/bucketing-file-sink/index.js'
import { PartBuffer } from '../../../lib/connectors/bucketing-file-sink/part-buffer.js'
import { createLogger } from '../../../lib/logging.js'
import { tempDir, type TempDir } from '../../support/temp-dir.js'
import { waitFor } from '../../support/wait-for.js'
import { finishedFiles, localDiskWith, manualClock, read, writerContext } from './support.js'

const silent = createLogger({ level: 'silent' })

let dir: TempDir
test.before.each(() => {
  dir = tempDir('sluice-part-buffer-')
})
test.after.each(() => dir.remove())

test('a chunk holds the records in order, strings as UTF-8, and says how far their bytes exceed their length', () => {
  const held = new PartBuffer(new ChunkPool(1024, 4))
  assert.is(held.append('ab\n'), 3)
  assert.is(held.append('été\n'), 4, 'a string counts by its length until encoded')
  assert.is(held.append(Uint8Array.of(0x78, 0x0a)), 2, 'bytes count exactly')
  assert.is(held.append('€\n'), 2)
  const { chunk, correction } = held.take()
  assert.is(Buffer.from(chunk).toString('utf8'), 'ab\nété\nx\n€\n')
  assert.is(correction, 2 + 2, 'é is 2 bytes and one code unit, € 3 bytes and one')
  assert.is(chunk.byteLength, 3 + 4 + 2 + 2 + correction)
  const empty = held.take()
  assert.is(empty.chunk.byteLength, 0, 'nothing is held after a take')
  assert.is(empty.correction, 0)
})

test('the pool reuses its own buffers once released, and never takes in a buffer it did not make', () => {
  const pool = new ChunkPool(1024, 1)
  const first = pool.acquire(100)
  assert.is(first.byteLength, 100)
  pool.release(first)
  const second = pool.acquire(200)
  assert.is(second.buffer, first.buffer, 'the released buffer is reused')
  const third = pool.acquire(300)
  assert.is.not(third.buffer, second.buffer, 'a buffer in use is never handed out twice')
  pool.release(second)
  pool.release(third)
  assert.is(pool.acquire(10).buffer, second.buffer, 'at most maxFree buffers wait: the second release was dropped')
  assert.is.not(pool.acquire(10).buffer, third.buffer)

  const foreign = Buffer.from('x'.repeat(100)) // a slice of Node's shared pool
  pool.release(foreign)
  assert.is.not(pool.acquire(10).buffer, foreign.buffer, "Node's buffers are never reused by the pool")
  const large = pool.acquire(4096)
  assert.is(large.byteLength, 4096, 'a chunk larger than the pooled size gets its own buffer')
  pool.release(large)
  assert.is.not(pool.acquire(10).buffer, large.buffer)
})

test('text other than ASCII is written as UTF-8, and the part size counts its bytes once written', async () => {
  const clock = manualClock()
  const sink = bucketingFileSink<string>(dir.path, {
    bucketAssigner: basePathBucketAssigner(),
    // rolls after about 40 bytes: the size must count 'é' as two
    rollingPolicy: new DefaultRollingPolicy({ partSizeBytes: 40 }),
    writeBufferBytes: 8,
    logger: silent,
  })
  const writer = sink.createWriter(writerContext(clock))
  await writer.ready?.()
  // 'é0\n' as encoded: 4 bytes, 3 code units
  const lines = Array.from({ length: 20 }, (_, i) => `é${i % 10}`)
  for (const line of lines) writer.write(line, undefined)
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  const files = finishedFiles(dir.path)
  assert.is(files.map((f) => read(dir.path, f)).join(''), lines.map((l) => `${l}\n`).join(''))
  assert.ok(files.length >= 2, `${files.length} parts: the policy rolled by bytes, 80 of them`)
  for (const f of files.slice(0, -1)) {
    const bytes = Buffer.byteLength(read(dir.path, f))
    assert.ok(bytes >= 40 && bytes <= 40 + 2 * 8 + 4, `${f}: ${bytes} bytes`)
  }
  await writer.close()
})

/** The local disk, with writes held until `open()` is called. */
function gatedFileSystem(): { fs: FileSystem; open(): void; writesStarted(): number } {
  const local = new LocalFileSystem()
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  let started = 0
  const fs = localDiskWith('gated', {
    syncDirectory: (d) => local.syncDirectory(d),
    create: async (path, options) => {
      const file = await local.create(path, options)
      const gated: WritableFile = {
        path: file.path,
        write: async (data) => {
          started++
          await gate
          await file.write(data)
        },
        sync: () => file.sync(),
        close: () => file.close(),
      }
      return gated
    },
  })
  return { fs, open: () => release(), writesStarted: () => started }
}

test('ready() pauses the input while more than about 256 KiB is handed to the files and not yet written', async () => {
  const clock = manualClock()
  const store = gatedFileSystem()
  const writer = bucketingFileSink<string>(dir.path, {
    fileSystem: store.fs,
    bucketAssigner: basePathBucketAssigner(),
    logger: silent,
  }).createWriter(writerContext(clock))
  await writer.ready?.()
  const line = 'x'.repeat(99) // 100 bytes with its line end
  let written = 0
  // far below maxBufferedBytes (16 MiB): only the bytes waiting for the store make it pause
  while (written < 20_000 && writer.ready?.() === undefined) {
    writer.write(line, undefined)
    written++
  }
  const paused = writer.ready?.()
  assert.instance(paused, Promise, `paused after ${written} records`)
  assert.ok(written * 100 > 256 * 1024 && written * 100 < 256 * 1024 + 2 * 64 * 1024, `${written} records`)
  await waitFor(() => store.writesStarted() > 0)
  await new Promise((resolve) => setImmediate(resolve))
  assert.is(store.writesStarted(), 1, 'the chunks wait behind the first write, to go out together')
  store.open()
  await paused
  assert.is(writer.ready?.(), undefined, 'running again')
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  assert.is(
    finishedFiles(dir.path)
      .map((f) => read(dir.path, f))
      .join(''),
    `${line}\n`.repeat(written),
  )
  await writer.close()
})

test('a pause for the bytes written behind ends once they are written, however much the other buckets hold', async () => {
  const clock = manualClock()
  const store = gatedFileSystem()
  const writer = bucketingFileSink<string>(dir.path, {
    fileSystem: store.fs,
    bucketAssigner: keyBucketAssigner((s: string) => s.slice(0, 2)),
    maxBufferedBytes: 4 * 1024 * 1024,
    logger: silent,
  }).createWriter(writerContext(clock))
  await writer.ready?.()
  // 50 buckets hold 50 KB each (2.5 MB, more than half of maxBufferedBytes), below writeBufferBytes:
  // nothing writes them while the input waits
  const held = (b: number, i: number) => `${String(b).padStart(2, '0')}${'h'.repeat(97)}${i % 10}`
  for (let b = 10; b < 60; b++) for (let i = 0; i < 500; i++) writer.write(held(b, i), undefined)
  assert.is(writer.ready?.(), undefined)
  const busy = (i: number) => `99${'x'.repeat(97)}${i % 10}`
  let written = 0
  while (writer.ready?.() === undefined) writer.write(busy(written++), undefined)
  const paused = writer.ready?.()
  assert.instance(paused, Promise)
  store.open()
  await paused
  assert.is(writer.ready?.(), undefined, 'running again')
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  const lines = finishedFiles(dir.path).flatMap((f) =>
    read(dir.path, f)
      .split('\n')
      .filter((l) => l !== ''),
  )
  assert.is(lines.length, 50 * 500 + written)
  await writer.close()
})

test('writes to a local file may overlap: each lands where its call put it, an appended file stays in order', async () => {
  const local = new LocalFileSystem()
  const path = dir.file('overlapped')
  const file = await local.create(path)
  assert.is(file.overlapsWrites, true)
  const big = Buffer.alloc(3 * 1024 * 1024, 'b') // likely still being written when the next ones start
  await Promise.all([
    file.write(Buffer.from('a')),
    file.write(big),
    file.writev!([Buffer.from('c'), Buffer.from('d')]),
    file.write(Buffer.from('e')),
  ])
  await file.close()
  assert.is(readFileSync(path, 'latin1'), `a${'b'.repeat(big.byteLength)}cde`)
  const appended = await local.create(path, { mode: 'append' })
  assert.is(appended.overlapsWrites, false, 'O_APPEND ignores offsets: one write at a time')
  await appended.write(Buffer.from('f'))
  await appended.close()
  assert.is(readFileSync(path, 'latin1').slice(-3), 'def')
})

/** The local disk, each write's completion held until the test lets it through (in any order). */
function heldWritesFileSystem(): { fs: FileSystem; held: Array<() => void> } {
  const local = new LocalFileSystem()
  const held: Array<() => void> = []
  const fs = localDiskWith('held', {
    syncDirectory: (d) => local.syncDirectory(d),
    create: async (path, options) => {
      const file = await local.create(path, options)
      const write = (done: Promise<void>) =>
        new Promise<void>((resolve, reject) => held.push(() => done.then(resolve, reject)))
      return {
        path: file.path,
        releasesWrites: true,
        overlapsWrites: file.overlapsWrites,
        // the write takes its place in the file now; only its completion is held
        write: (data) => write(file.write(data)),
        writev: (chunks) => write(file.writev!(chunks)),
        sync: () => file.sync(),
        close: () => file.close(),
      }
    },
  })
  return { fs, held }
}

test('a part writes its chunks as they are handed over, two writes in flight, in order however they finish', async () => {
  const clock = manualClock()
  const store = heldWritesFileSystem()
  const writer = bucketingFileSink<string>(dir.path, {
    fileSystem: store.fs,
    bucketAssigner: basePathBucketAssigner(),
    writeBufferBytes: 1000,
    logger: silent,
  }).createWriter(writerContext(clock))
  await writer.ready?.()
  const line = (i: number) => `${String(i).padStart(9, '0')}${'x'.repeat(90)}` // 100 bytes with its line end
  let n = 0
  for (; n < 10; n++) writer.write(line(n), undefined) // one chunk: the first write opens the file
  await waitFor(() => store.held.length === 1, { description: 'the first write started' })
  for (; n < 55; n++) writer.write(line(n), undefined) // four chunks more, and half a chunk held
  assert.is(store.held.length, 2, 'the second write started at once, in the same turn; the rest wait for one')
  store.held[1]!()
  await waitFor(() => store.held.length === 3, { description: 'the second write done: the waiting chunks start' })
  const snapshot = writer.snapshotState!(1)
  // on close the held records go out at once, whatever is in flight
  await waitFor(() => store.held.length === 4, { description: 'the last write started' })
  // they finish in the reverse order of their calls
  for (const done of store.held.slice(0, 1).concat(store.held.slice(2)).reverse()) done()
  await snapshot
  await writer.notifyCheckpointComplete!(1)
  const expected = Array.from({ length: n }, (_, i) => `${line(i)}\n`).join('')
  assert.is(
    finishedFiles(dir.path)
      .map((f) => read(dir.path, f))
      .join(''),
    expected,
  )
  await writer.close()
})

test.run()

import { readFileSync, renameSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createLogger } from '../../../lib/logging.js'
import type { DeadLetter } from '../../../lib/runtime/output-tag.js'
import type { SinkWriter } from '../../../lib/runtime/sink.js'
import {
  type BlockEncoder,
  type BucketingFileSinkOptions,
  LocalFileSystem,
  basePathBucketAssigner,
  bucketingFileSink,
  csv,
  gzip,
  keyBucketAssigner,
  textLines,
} from '../../../lib/connectors/bucketing-file-sink/index.js'
import { avroContainer } from '../../../lib/connectors/bucketing-file-sink/avro/index.js'
import { parquet } from '../../../lib/connectors/bucketing-file-sink/parquet/index.js'
import { s3Writer } from '../../../lib/connectors/bucketing-file-sink/s3/index.js'
import { tempDir, type TempDir } from '../../support/temp-dir.js'
import { decodeAvro, decodeParquet } from './bulk-support.js'
import { filesUnder, finishedFiles, finishedLines, inProgressFiles, manualClock, writerContext } from './support.js'

const silent = createLogger({ level: 'silent' })

let dir: TempDir
test.before.each(() => {
  dir = tempDir('sluice-compaction-')
})
test.after.each(() => dir.remove())

const bytesOf = (file: string) => readFileSync(join(dir.path, file))

/** A writer of a fresh sink (as a new process would build it), restored from `state` when given. */
async function writerOf<T>(options: BucketingFileSinkOptions<T>, state?: unknown[]): Promise<SinkWriter<T>> {
  const writer = bucketingFileSink<T>(dir.path, { logger: silent, ...options }).createWriter(
    writerContext(manualClock()),
    state,
  )
  await writer.ready?.()
  return writer
}

/** Writes `records` and takes checkpoint `id` (pre-commit); returns its state. */
async function checkpoint<T>(writer: SinkWriter<T>, id: number, records: readonly T[]): Promise<unknown[]> {
  for (const record of records) writer.write(record, undefined)
  return writer.snapshotState!(id)
}

const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `r${from + i}`)

test('parts stay hidden until their bucket is due (3 checkpoints), then one merged file is published and its sources deleted', async () => {
  const writer = await writerOf<string>({ bucketAssigner: basePathBucketAssigner(), compaction: { checkpoints: 3 } })
  for (let id = 1; id <= 2; id++) {
    await checkpoint(writer, id, lines((id - 1) * 10, id * 10))
    await writer.notifyCheckpointComplete!(id)
    assert.equal(finishedFiles(dir.path), [], `checkpoint ${id}: nothing visible while the bucket waits`)
    assert.is(inProgressFiles(dir.path).length, id, 'each checkpoint leaves one hidden part, held')
  }
  await checkpoint(writer, 3, lines(20, 30))
  assert.equal(finishedFiles(dir.path), [], 'merged on the pre-commit, visible only on the commit')
  assert.is(inProgressFiles(dir.path).length, 4, 'three sources and the merged file, all hidden')
  await writer.notifyCheckpointComplete!(3)
  assert.equal(finishedFiles(dir.path), ['part-0-3'])
  assert.equal(inProgressFiles(dir.path), [], 'the sources are deleted once the merged file is visible')
  assert.equal(finishedLines(dir.path), lines(0, 30), 'in order')
  await writer.close()
})

test('a bucket is due at sizeThresholdBytes or maxFiles; the end of input publishes every held part', async () => {
  const bySize = await writerOf<string>({
    bucketAssigner: keyBucketAssigner((s: string) => s.slice(0, 1)),
    compaction: { sizeThresholdBytes: 20, maxFiles: 3 },
  })
  // bucket a: 8 bytes a checkpoint, due at the 3rd (24 ≥ 20); bucket b: 3 bytes, due at the 3rd file
  for (let id = 1; id <= 2; id++) {
    await checkpoint(bySize, id, [`a${id}`, `a${id}`, `b${id}`])
    await bySize.notifyCheckpointComplete!(id)
  }
  assert.equal(finishedFiles(dir.path), [])
  await checkpoint(bySize, 3, ['a3', 'a3', 'b3'])
  await bySize.notifyCheckpointComplete!(3)
  assert.is(finishedFiles(dir.path).length, 2, 'one merged file per bucket')
  await checkpoint(bySize, 4, ['a4'])
  await bySize.notifyCheckpointComplete!(4)
  assert.is(finishedFiles(dir.path).length, 2, 'a4 waits')
  bySize.write('b5', undefined)
  await bySize.flush!(true)
  assert.equal(inProgressFiles(dir.path), [], 'nothing is left hidden at the end of input')
  assert.equal(finishedLines(dir.path), ['a1', 'a1', 'a2', 'a2', 'a3', 'a3', 'a4', 'b1', 'b2', 'b3', 'b5'])
  await bySize.close()
})

test('CSV with a header through gzip: the merged file is one gzip stream with one header', async () => {
  const writer = await writerOf<{ id: number }>({
    bucketAssigner: basePathBucketAssigner(),
    encoder: gzip(csv({ columns: ['id'], header: true })),
    compaction: { checkpoints: 3 },
  })
  for (let id = 1; id <= 3; id++) await checkpoint(writer, id, [{ id: id * 10 }, { id: id * 10 + 1 }])
  await writer.notifyCheckpointComplete!(3)
  const [merged, ...others] = finishedFiles(dir.path)
  assert.equal(others, [])
  assert.is(gunzipSync(bytesOf(merged!)).toString(), 'id\n10\n11\n20\n21\n30\n31\n')
  await writer.close()
})

interface Row {
  id: number
  big: bigint
  name: string
  ok: boolean
  at: Date
  score: number
  note: string | null
}
const row = (id: number): Row => ({
  id,
  big: BigInt(id) * 10_000_000_000n,
  name: `name-${id}`,
  ok: id % 2 === 0,
  at: new Date(1_700_000_000_000 + id),
  score: id / 4,
  note: id % 3 === 0 ? null : `note ${id}`,
})

const BULK: ReadonlyArray<{
  name: string
  encoder: () => BlockEncoder<Record<string, unknown>>
  /** The row as the format takes it. */
  record: (r: Row) => Record<string, unknown>
  read: (bytes: Buffer) => Promise<Record<string, unknown>[]>
}> = [
  {
    name: 'Avro (deflate)',
    encoder: () =>
      avroContainer(
        {
          type: 'record',
          name: 'Row',
          fields: [
            { name: 'id', type: 'int' },
            { name: 'big', type: 'long' },
            { name: 'name', type: 'string' },
            { name: 'ok', type: 'boolean' },
            { name: 'at', type: 'long' },
            { name: 'score', type: 'double' },
            { name: 'note', type: ['null', 'string'] },
          ],
        },
        { codec: 'deflate' },
      ),
    record: (r) => ({ ...r, big: Number(r.big), at: r.at.getTime() }),
    read: decodeAvro,
  },
  {
    name: 'Parquet (snappy)',
    encoder: () =>
      parquet(
        [
          { name: 'id', type: 'INT32' },
          { name: 'big', type: 'INT64' },
          { name: 'name', type: 'STRING' },
          { name: 'ok', type: 'BOOLEAN' },
          { name: 'at', type: 'TIMESTAMP' },
          { name: 'score', type: 'DOUBLE' },
          { name: 'note', type: 'STRING', nullable: true },
        ],
        { rowGroupBytes: 2_000 },
      ),
    record: (r) => ({ ...r }),
    read: async (bytes) =>
      (await decodeParquet(bytes)).rows.map((r) => ({
        ...r,
        name: Buffer.from(r.name as Uint8Array).toString(),
        note: r.note === null || r.note === undefined ? null : Buffer.from(r.note as Uint8Array).toString(),
      })),
  },
]

for (const format of BULK) {
  test(`${format.name}: parts of 4 checkpoints merge into one valid file an independent reader reads whole`, async () => {
    const writer = await writerOf<Record<string, unknown>>({
      bucketAssigner: basePathBucketAssigner(),
      encoder: format.encoder(),
      writeBufferBytes: 512,
      compaction: { checkpoints: 4 },
    })
    const rows = Array.from({ length: 400 }, (_, i) => format.record(row(i)))
    for (let id = 1; id <= 4; id++) await checkpoint(writer, id, rows.slice((id - 1) * 100, id * 100))
    await writer.notifyCheckpointComplete!(4)
    const files = finishedFiles(dir.path)
    assert.is(files.length, 1)
    assert.equal(inProgressFiles(dir.path), [])
    const back = await format.read(bytesOf(files[0]!))
    assert.equal(back, rows)
    await writer.close()
  })
}

/**
 * Kill points of a compaction. Checkpoints 1 and 2 hold their parts; checkpoint 3 merges them (its
 * pre-commit writes the merged file) and its commit publishes it and deletes the sources. A new writer
 * (another process) restores from the state the kill left as the latest completed checkpoint; its
 * sources replay what came after that checkpoint.
 */
const KILLS: ReadonlyArray<{
  name: string
  /** The latest completed checkpoint when the process died: 2, or 3. */
  restoreFrom: 2 | 3
  /** What the process did to the files before it died, after checkpoint 3's pre-commit. */
  damage?: (merged: string) => void
  /** Checkpoint 2 was aborted (never completed): its transaction is pending in checkpoint 3's state. */
  aborted2?: true
}> = [
  { name: 'after the merged file was written, before checkpoint 3 completed', restoreFrom: 2 },
  {
    name: 'while the merged file was being written (half of it on disk)',
    restoreFrom: 2,
    damage: (merged) => truncateSync(join(dir.path, merged), 10),
  },
  { name: 'after checkpoint 3 completed, before its commit', restoreFrom: 3 },
  { name: 'before the commit of checkpoint 3, checkpoint 2 aborted', restoreFrom: 3, aborted2: true },
  {
    name: 'in the commit: the merged file renamed, its sources not yet deleted',
    restoreFrom: 3,
    damage: (merged) => renameSync(join(dir.path, merged), join(dir.path, 'part-0-3')),
  },
]

for (const kill of KILLS) {
  test(`killed ${kill.name}: the restore publishes every record exactly once and leaves no hidden file`, async () => {
    const options: BucketingFileSinkOptions<string> = {
      bucketAssigner: basePathBucketAssigner(),
      compaction: { checkpoints: 3 },
    }
    const first = await writerOf<string>(options)
    const states: Record<number, unknown[]> = {}
    for (let id = 1; id <= 3; id++) {
      states[id] = await checkpoint(first, id, lines((id - 1) * 10, id * 10))
      if (id === 1 || (id === 2 && kill.aborted2 === undefined)) await first.notifyCheckpointComplete!(id)
    }
    const merged = inProgressFiles(dir.path).find((f) => f.startsWith('.part-0-3.'))!
    assert.ok(merged, 'checkpoint 3 wrote the merged file')
    kill.damage?.(merged)
    // the process dies: no close, no commit

    const restored = await writerOf<string>(options, states[kill.restoreFrom])
    // replay after the restored checkpoint, then end of input
    if (kill.restoreFrom === 2) for (const line of lines(20, 30)) restored.write(line, undefined)
    await restored.flush!(true)
    await restored.close()
    assert.equal(finishedLines(dir.path).sort(), lines(0, 30).sort(), 'every record once')
    assert.equal(inProgressFiles(dir.path), [], 'no hidden file left')
    assert.equal(
      filesUnder(dir.path).filter((f) => !f.startsWith('part-')),
      [],
    )
  })
}

test('the end of input merges held parts in the final checkpoint, so a kill after it (in the closing flush) loses and repeats nothing', async () => {
  const options: BucketingFileSinkOptions<string> = {
    bucketAssigner: basePathBucketAssigner(),
    compaction: { checkpoints: 5 },
  }
  const first = await writerOf<string>(options)
  for (let id = 1; id <= 2; id++) {
    await checkpoint(first, id, lines((id - 1) * 10, id * 10))
    await first.notifyCheckpointComplete!(id)
  }
  // the runtime: all input written, then the final checkpoint, its commit, then flush(true) on close
  first.endInput!()
  const final = await first.snapshotState!(3)
  await first.notifyCheckpointComplete!(3)
  assert.equal(inProgressFiles(dir.path), [], 'the final checkpoint published everything')
  await first.flush!(true)
  // killed here; the restore starts from the final checkpoint and has nothing to replay
  const restored = await writerOf<string>(options, final)
  await restored.flush!(true)
  await restored.close()
  assert.equal(finishedLines(dir.path), lines(0, 20))
  assert.equal(inProgressFiles(dir.path), [])
})

test('options: compaction needs a limit, refuses unknown keys, and an encoder it cannot merge, naming the option', () => {
  const build = (options: BucketingFileSinkOptions<string>) => () => bucketingFileSink<string>(dir.path, options)
  assert.throws(build({ compaction: {} }), /bucketingFileSink\.compaction.*at least one of/)
  assert.throws(build({ compaction: { checkpoints: 0 } }), /bucketingFileSink\.compaction\.checkpoints/)
  assert.throws(build({ compaction: { every: 2 } as never }), /bucketingFileSink\.compaction\.every.*no such option/)
  const wrapped = { ...textLines<string>(), bulk: true, wrap: (o: never) => o }
  assert.throws(build({ encoder: wrapped, compaction: { checkpoints: 2 } }), /compaction.*cannot unwrap/)
  const local = new LocalFileSystem()
  const writeOnly = new Proxy(local, { get: (fs, key) => (key === 'read' ? undefined : Reflect.get(fs, key)) })
  assert.throws(
    () => bucketingFileSink<string>(dir.path, { fileSystem: writeOnly, compaction: { checkpoints: 2 } }),
    /bucketingFileSink\.compaction.*a store that reads part files back \(local cannot\)/,
  )
  const s3 = s3Writer({ bucket: 'out', region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })
  bucketingFileSink<string>('events/', { writer: s3, compaction: { checkpoints: 2 } }) // S3 compacts (s3-compaction.spec.ts)
  s3.destroy()
})

test('a row encoder that throws sends the record to the dead-letter output with the reason; the job goes on', async () => {
  const letters: DeadLetter[] = []
  const sink = bucketingFileSink<number>(dir.path, {
    bucketAssigner: basePathBucketAssigner(),
    encoder: {
      name: 'odd-only',
      bulk: false,
      encode: (n) => {
        if (n % 2 === 0) throw new Error(`${n} is even`)
        return `${n}\n`
      },
    },
    logger: silent,
  })
  const writer = sink.createWriter({ ...writerContext(manualClock()), deadLetter: (l) => letters.push(l) })
  await writer.ready?.()
  for (let n = 1; n <= 5; n++) writer.write(n, undefined)
  await writer.flush!(true)
  await writer.close()
  assert.equal(finishedLines(dir.path), ['1', '3', '5'])
  assert.equal(
    letters.map((l) => [l.record, l.reason]),
    [
      [2, 'bucketingFileSink: the encoder odd-only threw: 2 is even'],
      [4, 'bucketingFileSink: the encoder odd-only threw: 4 is even'],
    ],
  )
})

test.run()

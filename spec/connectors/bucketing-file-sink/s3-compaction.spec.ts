import { gunzipSync } from 'node:zlib'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import {
  type BucketingFileSink,
  type BucketingFileSinkOptions,
  basePathBucketAssigner,
  bucketingFileSink,
  csv,
  gzip,
} from '../../../lib/connectors/bucketing-file-sink/index.js'
import { type S3RecoverableWriter, s3Writer } from '../../../lib/connectors/bucketing-file-sink/s3/index.js'
import { createLogger } from '../../../lib/logging.js'
import type { SinkWriter } from '../../../lib/runtime/sink.js'
import { s3ForSuite } from '../../support/s3-suite.js'
import { FORMATS } from './bulk-support.js'
import { emptyBucket, hiddenKeys, listKeys, readObject } from './s3-support.js'
import { manualClock, writerContext } from './support.js'

/**
 * Compaction on S3 (s3rver with the multipart extension of spec/support/s3-server.ts), as Flink's
 * FileSink compacts on a store without rename: the parts to compact are complete objects under hidden
 * keys, the merged part is a multipart upload to its final key completed on the commit, and the hidden
 * sources are deleted after it. Killed at each step, a new writer restoring the checkpoint the kill left
 * publishes every record once and leaves no upload and no hidden object.
 */
const Compaction = suite('bucketing file sink on S3: compaction')
const BUCKET = 'compaction'
const PREFIX = 'out'
const silent = createLogger({ level: 'silent' })
const writers: S3RecoverableWriter[] = []

const s3 = s3ForSuite(Compaction, [BUCKET])
Compaction.after.each(async () => {
  for (const writer of writers.splice(0)) writer.destroy()
  await emptyBucket(s3.server, s3.client, BUCKET)
})

/** A sink on S3 with compaction, writing under PREFIX. */
function sinkOf<T>(options: Omit<BucketingFileSinkOptions<T>, 'writer'>): BucketingFileSink<T> {
  const store = s3Writer({
    bucket: BUCKET,
    endpoint: s3.server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  })
  writers.push(store)
  return bucketingFileSink<T>(PREFIX, {
    logger: silent,
    bucketAssigner: basePathBucketAssigner(),
    ...options,
    writer: store,
  })
}

/** A ready writer of `sink`, restored from `state` when given. */
async function writerFrom<T>(sink: BucketingFileSink<T>, state?: unknown[]): Promise<SinkWriter<T>> {
  const writer = sink.createWriter(writerContext(manualClock()), state)
  await writer.ready?.()
  return writer
}

/** A writer of a fresh sink (as a new process would build it), restored from `state` when given. */
function writerOf<T>(options: Omit<BucketingFileSinkOptions<T>, 'writer'>, state?: unknown[]): Promise<SinkWriter<T>> {
  return writerFrom(sinkOf(options), state)
}

async function checkpoint<T>(writer: SinkWriter<T>, id: number, records: readonly T[]): Promise<unknown[]> {
  for (const record of records) writer.write(record, undefined)
  return writer.snapshotState!(id)
}

const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `r${from + i}`)
const keys = () => listKeys(s3.client, BUCKET, `${PREFIX}/`)
const visible = async () => (await keys()).filter((k) => !hiddenKeys([k]).includes(k))
const hidden = async () => hiddenKeys(await keys())
const uploads = () => s3.server.uploads(BUCKET)
/** The lines of every visible object, in key order. */
async function visibleLines(): Promise<string[]> {
  const out: string[] = []
  for (const key of await visible()) {
    const text = (await readObject(s3.client, BUCKET, key)).toString()
    if (text !== '') out.push(...text.replace(/\n$/, '').split('\n'))
  }
  return out
}

Compaction(
  'parts are complete hidden objects until their bucket is due; the merged part is an upload to its final key, completed on the commit, then the sources are deleted',
  async () => {
    const writer = await writerOf<string>({ compaction: { checkpoints: 3 } })
    for (let id = 1; id <= 2; id++) {
      await checkpoint(writer, id, lines((id - 1) * 10, id * 10))
      await writer.notifyCheckpointComplete!(id)
      assert.equal(await visible(), [], `checkpoint ${id}: nothing visible while the bucket waits`)
      assert.is((await hidden()).length, id, 'each checkpoint leaves one complete hidden object, held')
      assert.equal(await uploads(), [], 'a held part is an object, not a pending upload')
    }
    await checkpoint(writer, 3, lines(20, 30))
    assert.equal(await visible(), [], 'merged on the pre-commit, visible only on the commit')
    assert.equal(
      (await uploads()).map((u) => u.key),
      [`${PREFIX}/part-0-3`],
      'the merged part is a pending upload to its final key',
    )
    assert.is((await hidden()).length, 3, 'the three sources, hidden')
    await writer.notifyCheckpointComplete!(3)
    assert.equal(await visible(), [`${PREFIX}/part-0-3`])
    assert.equal(await hidden(), [], 'the sources are deleted once the merged part is complete')
    assert.equal(await uploads(), [])
    assert.equal(await visibleLines(), lines(0, 30), 'in order')
    await writer.close()
  },
)

Compaction(
  'a due bucket with a single part has it written again under a final key (a hidden key never becomes one)',
  async () => {
    const writer = await writerOf<string>({ compaction: { checkpoints: 1 } })
    await checkpoint(writer, 1, lines(0, 5))
    await writer.notifyCheckpointComplete!(1)
    assert.equal(await visible(), [`${PREFIX}/part-0-1`], 'part-0-0 was the hidden source')
    assert.equal(await hidden(), [])
    assert.equal(await visibleLines(), lines(0, 5))
    writer.write('last', undefined)
    await writer.flush!(true)
    assert.equal(await visibleLines(), [...lines(0, 5), 'last'], 'the end of input publishes what is held')
    assert.equal(await hidden(), [])
    assert.equal(await uploads(), [])
    await writer.close()
  },
)

Compaction('CSV with a header through gzip: the merged object is one gzip stream with one header', async () => {
  const writer = await writerOf<{ id: number }>({
    encoder: gzip(csv({ columns: ['id'], header: true })),
    compaction: { checkpoints: 3 },
  })
  for (let id = 1; id <= 3; id++) await checkpoint(writer, id, [{ id: id * 10 }, { id: id * 10 + 1 }])
  await writer.notifyCheckpointComplete!(3)
  const [merged, ...others] = await visible()
  assert.equal(others, [])
  assert.is(gunzipSync(await readObject(s3.client, BUCKET, merged!)).toString(), 'id\n10\n11\n20\n21\n30\n31\n')
  await writer.close()
})

for (const format of FORMATS) {
  Compaction(
    `${format.name}: parts of 4 checkpoints merge into one object an independent reader reads whole`,
    async () => {
      const writer = await writerOf<string>({
        encoder: format.encoder(),
        writeBufferBytes: 512,
        compaction: { checkpoints: 4 },
      })
      for (let id = 1; id <= 4; id++) await checkpoint(writer, id, lines((id - 1) * 100, id * 100))
      await writer.notifyCheckpointComplete!(4)
      const objects = await visible()
      assert.is(objects.length, 1)
      assert.equal(await hidden(), [])
      assert.equal(await format.decode(await readObject(s3.client, BUCKET, objects[0]!)), lines(0, 400))
      await writer.close()
    },
  )
}

/** The pending upload of the merged part (checkpoint 3's pre-commit created it). */
async function mergedUpload(): Promise<{ key: string; uploadId: string }> {
  const merged = (await uploads()).filter((u) => u.key === `${PREFIX}/part-0-3`)
  assert.is(merged.length, 1, 'checkpoint 3 wrote the merged upload')
  return merged[0]!
}

/**
 * Kill points of a compaction on S3. Checkpoints 1 and 2 hold their parts; checkpoint 3's pre-commit
 * completes its own part as a hidden object and merges the three into an upload to `part-0-3`; its
 * commit completes that upload and deletes the sources. The restoring writer is a new process's.
 */
const KILLS: ReadonlyArray<{
  name: string
  restoreFrom: 2 | 3
  /** What the process did on the store before it died, after checkpoint 3's pre-commit. */
  damage?: () => Promise<void>
  aborted2?: true
}> = [
  { name: 'after the merged upload was written, before checkpoint 3 completed', restoreFrom: 2 },
  {
    name: 'while the merged upload was being written (one part uploaded, not closed)',
    restoreFrom: 2,
    damage: async () => {
      // the store as a process left it that died mid-merge: an upload to the key with a part, and no more
      const { key, uploadId } = await mergedUpload()
      const answer = await s3.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }))
      assert.is(answer.Parts?.length, 1)
      const created = await s3.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }))
      await s3.client.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: created.UploadId, PartNumber: 1, Body: 'r0\nr' }),
      )
    },
  },
  { name: 'after checkpoint 3 completed, before its commit', restoreFrom: 3 },
  { name: 'before the commit of checkpoint 3, checkpoint 2 aborted', restoreFrom: 3, aborted2: true },
  {
    name: 'in the commit: the merged upload completed, its sources not yet deleted',
    restoreFrom: 3,
    damage: async () => {
      const { key, uploadId } = await mergedUpload()
      const answer = await s3.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }))
      await s3.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: answer.Parts!.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag })) },
        }),
      )
      assert.is((await hidden()).length, 3, 'the sources are still there')
    },
  },
]

for (const kill of KILLS) {
  Compaction(
    `killed ${kill.name}: the restore publishes every record once, no upload or hidden object left`,
    async () => {
      const options = { compaction: { checkpoints: 3 } }
      const first = await writerOf<string>(options)
      const states: Record<number, unknown[]> = {}
      for (let id = 1; id <= 3; id++) {
        states[id] = await checkpoint(first, id, lines((id - 1) * 10, id * 10))
        if (id === 1 || (id === 2 && kill.aborted2 === undefined)) await first.notifyCheckpointComplete!(id)
      }
      await mergedUpload()
      await kill.damage?.()
      // the process dies: no close, no commit

      const restored = await writerOf<string>(options, states[kill.restoreFrom])
      if (kill.restoreFrom === 2) for (const line of lines(20, 30)) restored.write(line, undefined)
      await restored.flush!(true)
      await restored.close()
      assert.equal((await visibleLines()).sort(), lines(0, 30).sort(), 'every record once')
      assert.equal(await hidden(), [], 'no hidden object left')
      assert.equal(await uploads(), [], 'no upload left')
    },
  )
}

Compaction(
  'the end of input merges held parts in the final checkpoint, so a kill in the closing flush loses and repeats nothing',
  async () => {
    const options = { compaction: { checkpoints: 5 } }
    const first = await writerOf<string>(options)
    for (let id = 1; id <= 2; id++) {
      await checkpoint(first, id, lines((id - 1) * 10, id * 10))
      await first.notifyCheckpointComplete!(id)
    }
    first.endInput!()
    const final = await first.snapshotState!(3)
    await first.notifyCheckpointComplete!(3)
    assert.equal(await hidden(), [], 'the final checkpoint published everything')
    await first.flush!(true)
    const restored = await writerOf<string>(options, final)
    await restored.flush!(true)
    await restored.close()
    assert.equal(await visibleLines(), lines(0, 20))
    assert.equal(await hidden(), [])
    assert.equal(await uploads(), [])
  },
)

Compaction(
  'a restart in the process with nothing to restore deletes the hidden parts and aborts the merged upload',
  async () => {
    const sink = sinkOf<string>({ compaction: { checkpoints: 2 } })
    const failed = await writerFrom(sink)
    await checkpoint(failed, 1, lines(0, 10))
    failed.write('r10', undefined)
    await failed.snapshotState!(2) // checkpoints 1 and 2 pre-committed, neither completed
    assert.equal(
      (await uploads()).map((u) => u.key),
      [`${PREFIX}/part-0-2`],
      'the merged upload is pending',
    )
    assert.is((await hidden()).length, 2, 'its two sources are hidden objects')
    // the job fails over and starts again from the beginning: the sources replay everything
    const fresh = await writerFrom(sink)
    await fresh.close()
    await failed.close()
    assert.equal(await keys(), [], 'no object left')
    assert.equal(await uploads(), [], 'no upload left')
  },
)

Compaction.run()

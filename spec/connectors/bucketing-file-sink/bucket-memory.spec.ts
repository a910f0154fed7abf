import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ListPartsCommand } from '@aws-sdk/client-s3'
import {
  bucketingFileSink,
  DefaultRollingPolicy,
  keyBucketAssigner,
  type PartOutput,
} from '../../../lib/connectors/bucketing-file-sink/index.js'
import { avroContainer } from '../../../lib/connectors/bucketing-file-sink/avro/index.js'
import { parquet } from '../../../lib/connectors/bucketing-file-sink/parquet/index.js'
import { s3Writer } from '../../../lib/connectors/bucketing-file-sink/s3/index.js'
import { createLogger } from '../../../lib/logging.js'
import { s3ForSuite } from '../../support/s3-suite.js'
import { emptyBucket } from './s3-support.js'
import { manualClock, writerContext } from './support.js'

/**
 * Memory per open bucket is bounded: a Parquet part holds at most `rowGroupBytes` of records beyond the
 * block being written, an Avro part none; on S3 an open part holds at most one part's bytes (the rest is
 * uploaded while it grows), and a part idle for the rolling policy's inactivity interval is closed
 * (its tail uploaded, its memory released) before any checkpoint.
 */
const Memory = suite('bucketing file sink: memory per open bucket')
const BUCKET = 'memory-bucket'
const MiB = 1024 * 1024
const silent = createLogger({ level: 'silent' })

const s3 = s3ForSuite(Memory, [BUCKET])
Memory.after.each(async () => {
  await emptyBucket(s3.server, s3.client, BUCKET)
})

/** A part output that counts what reached it. */
function countingOutput(): PartOutput & { writes: number; bytes: number } {
  const output = {
    writes: 0,
    bytes: 0,
    write: async (chunk: Uint8Array) => {
      output.writes++
      output.bytes += chunk.byteLength
    },
    end: async () => {},
  }
  return output
}

interface Row {
  id: number
  name: string
}

Memory(
  'a Parquet part writes a row group whenever it holds rowGroupBytes of records; an Avro part holds none',
  async () => {
    const rowGroupBytes = 32 * 1024
    const encoder = parquet<Row>(
      [
        { name: 'id', type: 'INT32' },
        { name: 'name', type: 'STRING' },
      ],
      { rowGroupBytes },
    )
    const output = countingOutput()
    const writer = encoder.open(output)
    const block = Array.from({ length: 500 }, (_, i) => ({ id: i, name: `name-${i}` }))
    const blockBytes = block.reduce((sum, row) => sum + encoder.check(row), 0)
    let held = 0
    for (let i = 0; i < 100; i++) {
      const before = output.writes
      await writer.writeBlock(block, blockBytes)
      held = output.writes > before ? 0 : held + blockBytes
      assert.ok(held < rowGroupBytes, `after block ${i}: ${held} bytes of records held (bound ${rowGroupBytes})`)
    }
    assert.ok(output.writes >= (100 * blockBytes) / (rowGroupBytes + blockBytes), `${output.writes} row groups written`)

    const avro = avroContainer<Row>({
      type: 'record',
      name: 'Row',
      fields: [
        { name: 'id', type: 'int' },
        { name: 'name', type: 'string' },
      ],
    })
    const avroOutput = countingOutput()
    const avroWriter = avro.open(avroOutput)
    for (let i = 1; i <= 10; i++) {
      await avroWriter.writeBlock(block, 0)
      assert.is(avroOutput.writes, i, 'every block goes out as it is written')
    }
  },
)

/** Sizes of the uploaded parts of the upload to a key under `prefix`. */
async function uploadedParts(prefix: string): Promise<number[]> {
  const upload = (await s3.server.uploads(BUCKET)).find((u) => u.key.startsWith(prefix))
  if (upload === undefined) return []
  const answer = await s3.client.send(
    new ListPartsCommand({ Bucket: BUCKET, Key: upload.key, UploadId: upload.uploadId }),
  )
  return (answer.Parts ?? []).map((p) => p.Size ?? 0)
}

async function eventually(check: () => Promise<boolean>, description: () => Promise<string>): Promise<void> {
  const deadline = performance.now() + 10_000
  while (!(await check())) {
    if (performance.now() > deadline) assert.unreachable(`timed out: ${await description()}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const s3Options = () => ({
  bucket: BUCKET,
  endpoint: s3.server.endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
})

Memory('S3: each of several open buckets holds at most one part; the rest is uploaded before any barrier', async () => {
  const writeBufferBytes = 64 * 1024
  const sink = bucketingFileSink<string>('mem', {
    writer: s3Writer(s3Options()),
    bucketAssigner: keyBucketAssigner((s: string) => `b${Number(s.slice(0, 10)) % 3}`),
    writeBufferBytes,
    maxBufferedBytes: 512 * 1024,
    logger: silent,
  })
  const writer = sink.createWriter(writerContext(manualClock()))
  await writer.ready?.()
  const perBucket = 11 * MiB
  const records = (3 * perBucket) / 1024
  for (let i = 0; i < records; i++) {
    writer.write(`${String(i).padStart(10, '0')}${'y'.repeat(1013)}`, undefined)
    await writer.ready?.()
  }
  for (const bucket of ['b0', 'b1', 'b2']) {
    const key = `mem/${bucket}/`
    await eventually(
      async () => perBucket - (await uploadedParts(key)).reduce((a, b) => a + b, 0) <= 5 * MiB + writeBufferBytes,
      async () => `${key}: ${(await uploadedParts(key)).join(', ')} uploaded of ${perBucket}`,
    )
    const parts = await uploadedParts(key)
    assert.is(parts.length, 2, `${key}: two parts went up as it grew`)
    for (const size of parts)
      assert.ok(size >= 5 * MiB && size < 5 * MiB + writeBufferBytes + 1024, `${key}: a part of ${size} bytes`)
  }
  await writer.snapshotState!(1)
  await writer.notifyCheckpointComplete!(1)
  assert.equal(await s3.server.uploads(BUCKET), [], 'every upload completed')
  await writer.close()
})

Memory(
  'S3: a bucket idle for the inactivity interval is closed before any checkpoint (its tail uploaded)',
  async () => {
    const clock = manualClock()
    const sink = bucketingFileSink<string>('idle', {
      writer: s3Writer(s3Options()),
      bucketAssigner: keyBucketAssigner((s: string) => s.slice(0, 4)),
      rollingPolicy: new DefaultRollingPolicy({ inactivityIntervalMs: 5_000, rolloverIntervalMs: 3_600_000 }),
      bucketCheckIntervalMs: 1_000,
      logger: silent,
    })
    const writer = sink.createWriter(writerContext(clock))
    await writer.ready?.()
    writer.write('busy record 1', undefined)
    writer.write('idle record', undefined)
    for (let second = 1; second <= 6; second++) {
      clock.t += 1_000
      clock.fire()
      writer.write(`busy record ${second + 1}`, undefined)
    }
    // the idle bucket's part was closed for commit: its bytes went up as the upload's last part
    await eventually(
      async () => (await uploadedParts('idle/idle/')).length === 1,
      async () => `idle part: ${JSON.stringify(await s3.server.uploads(BUCKET))}`,
    )
    assert.equal(await uploadedParts('idle/busy/'), [], 'the busy bucket is still open (nothing uploaded)')
    await writer.snapshotState!(1)
    await writer.notifyCheckpointComplete!(1)
    assert.equal(await s3.server.uploads(BUCKET), [])
    await writer.close()
  },
)

Memory.run()

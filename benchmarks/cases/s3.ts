// Cases s3-sink and file-sink-local — the bucketing file sink against the raw client writing the same
// bytes alone, same run, same store.
// s3-sink: n records of 100 bytes (99 characters and '\n', ~n/10,000 MB) from a bounded sequence into
// bucketingFileSink with s3Writer (5 MiB parts, parallelism 1, no checkpoints: one part file committed
// at the end of input), against the AWS SDK writing the same lines as one multipart upload (parts of
// 5 MiB, each awaited, then completed). Store: s3rver in this process behind the proxy of
// spec/support/s3-server.ts (s3rver writes every part to disk, so this measures the overhead around
// the client, not S3).
// file-sink-local: the same records into bucketingFileSink on the local disk (default rolling policy:
// parts of 128 MiB, each fsynced and renamed, the last at the end of input), against node:fs writing
// the same lines with one handle (writes of 64 KiB, fsync, close, rename).
// Each timed from the start to the object / file being complete; MB/s = records/s × 100 / 10^6.
import { open, readdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { basePathBucketAssigner, bucketingFileSink } from '../../lib/connectors/bucketing-file-sink/index.js'
import { s3Writer } from '../../lib/connectors/bucketing-file-sink/s3/index.js'
import { createLogger } from '../../lib/logging.js'
import { type S3Server, startS3Server } from '../../spec/support/s3-server.js'
import { tempDir } from '../../spec/support/temp-dir.js'
import { type BenchCase, type RunResult, hotPhase, ratioTarget } from '../measure.js'

const BUCKET = 'bench-bucket'
const PART = 5 * 1024 * 1024
const silent = createLogger({ level: 'silent' })
let server: S3Server | undefined
let runs = 0

/** Record i as a 100-byte line. */
const line = (i: number) => `${String(i).padStart(12, '0')}${'r'.repeat(87)}\n`

async function s3(): Promise<S3Server> {
  if (server === undefined) {
    server = await startS3Server([BUCKET])
    // the case has no teardown: the servers must not keep the runner alive
    server.unref()
  }
  return server
}

async function engineS3(s: S3Server, n: number): Promise<RunResult> {
  const prefix = `engine-${++runs}`
  const env = StreamEnvironment.create({ parallelism: 1, logLevel: 'silent' })
  env.fromSequence(1, n, { uid: 'numbers' }).sinkTo(
    bucketingFileSink<number>(prefix, {
      writer: s3Writer({
        bucket: BUCKET,
        endpoint: s.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      }),
      encoder: { name: 'lines', bulk: false, encode: (i: number) => line(i) },
      bucketAssigner: basePathBucketAssigner(),
      logger: silent,
    }),
    { uid: 'files' },
  )
  const phase = hotPhase()
  await env.execute('bench: s3 sink')
  const time = phase.end()
  const client = new S3Client(s.clientConfig)
  const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${prefix}/part-0-0` }))
  client.destroy()
  return { records: n, output: head.ContentLength === n * 100 ? n : 0, checksum: head.ContentLength ?? 0, ...time }
}

async function rawS3(s: S3Server, n: number): Promise<RunResult> {
  const key = `raw-${++runs}/part-0-0`
  const client = new S3Client(s.clientConfig)
  const phase = hotPhase()
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }))
  const parts: Array<{ PartNumber: number; ETag: string }> = []
  let chunk: string[] = []
  let bytes = 0
  let size = 0
  const upload = async () => {
    const Body = Buffer.from(chunk.join(''))
    chunk = []
    bytes = 0
    size += Body.byteLength
    const PartNumber = parts.length + 1
    const { ETag } = await client.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber, Body }))
    parts.push({ PartNumber, ETag: ETag! })
  }
  for (let i = 1; i <= n; i++) {
    chunk.push(line(i))
    bytes += 100
    if (bytes >= PART) await upload()
  }
  if (bytes > 0) await upload()
  await client.send(
    new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
  )
  const time = phase.end()
  client.destroy()
  return { records: n, output: size === n * 100 ? n : 0, checksum: size, ...time }
}

async function engineLocal(n: number): Promise<RunResult> {
  const dir = tempDir('sluice-bench-files-')
  try {
    const env = StreamEnvironment.create({ parallelism: 1, logLevel: 'silent' })
    env.fromSequence(1, n, { uid: 'numbers' }).sinkTo(
      bucketingFileSink<number>(dir.path, {
        encoder: { name: 'lines', bulk: false, encode: (i: number) => line(i) },
        bucketAssigner: basePathBucketAssigner(),
        logger: silent,
      }),
      { uid: 'files' },
    )
    const phase = hotPhase()
    await env.execute('bench: local file sink')
    const time = phase.end()
    // the default rolling policy rolls a part at 128 MiB: the records are in every finished part
    let size = 0
    for (const name of await readdir(dir.path))
      if (name.startsWith('part-0-')) size += (await stat(join(dir.path, name))).size
    return { records: n, output: size === n * 100 ? n : 0, checksum: size, ...time }
  } finally {
    dir.remove()
  }
}

async function rawLocal(n: number): Promise<RunResult> {
  const dir = tempDir('sluice-bench-fs-')
  try {
    const phase = hotPhase()
    const hidden = join(dir.path, '.part-0-0.inprogress')
    const handle = await open(hidden, 'wx')
    let chunk: string[] = []
    let bytes = 0
    let size = 0
    for (let i = 1; i <= n; i++) {
      chunk.push(line(i))
      bytes += 100
      if (bytes >= 64 * 1024) {
        const data = Buffer.from(chunk.join(''))
        await handle.write(data)
        size += data.byteLength
        chunk = []
        bytes = 0
      }
    }
    if (bytes > 0) {
      const data = Buffer.from(chunk.join(''))
      await handle.write(data)
      size += data.byteLength
    }
    await handle.sync()
    await handle.close()
    await rename(hidden, join(dir.path, 'part-0-0'))
    const time = phase.end()
    return { records: n, output: size === n * 100 ? n : 0, checksum: size, ...time }
  } finally {
    await rm(dir.path, { recursive: true, force: true })
  }
}

export const s3SinkCase: BenchCase = {
  id: 's3',
  title: 'Bucketing file sink on S3: s3Writer vs one SDK multipart upload of the same bytes (s3rver)',
  async prepare({ quick }) {
    const n = quick ? 200_000 : 1_000_000
    const s = await s3()
    return {
      reps: 3,
      warmup: 1,
      contenders: [
        { name: 'engine: sequence → bucketingFileSink(s3Writer)', role: 'engine', run: () => engineS3(s, n) },
        { name: 'AWS SDK: multipart upload, 5 MiB parts', role: 'baseline', run: () => rawS3(s, n) },
      ],
      notes: [
        `${n.toLocaleString('en')} records of 100 bytes (${(n / 10_000).toFixed(0)} MB) into one object; MB/s = records/s × 10^-4.`,
      ],
    }
  },
}

const ENGINE_LOCAL = 'engine: sequence → bucketingFileSink (local)'
const RAW_LOCAL = 'node:fs: 64 KiB writes, fsync, rename'

export const localFileSinkCase: BenchCase = {
  id: 'file-sink-local',
  title: 'Bucketing file sink on the local disk vs node:fs writing the same bytes',
  async prepare({ quick }) {
    // node:fs writes 100 MB in about half a CPU second: 2,000,000 records give a hot phase of a second
    // or more, where the job's start and the final fsync weigh little
    const n = quick ? 500_000 : 2_000_000
    return {
      reps: quick ? 3 : 5,
      warmup: 1,
      contenders: [
        { name: ENGINE_LOCAL, role: 'engine', run: () => engineLocal(n) },
        { name: RAW_LOCAL, role: 'baseline', run: () => rawLocal(n) },
      ],
      targets: (s) => [
        ratioTarget(s, `local file sink: ${ENGINE_LOCAL} ≥ 0.8 × ${RAW_LOCAL}`, ENGINE_LOCAL, RAW_LOCAL, 0.8),
      ],
      notes: [
        `${n.toLocaleString('en')} records of 100 bytes (${(n / 10_000).toFixed(0)} MB) into one file; MB/s = records/s × 10^-4.`,
      ],
    }
  },
}

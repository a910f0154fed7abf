import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { HeadObjectCommand, ListPartsCommand } from '@aws-sdk/client-s3'
import { basePathBucketAssigner, bucketingFileSink } from '../../../lib/connectors/bucketing-file-sink/index.js'
import { s3Writer, type S3WriterOptions } from '../../../lib/connectors/bucketing-file-sink/s3/index.js'
import { createLogger } from '../../../lib/logging.js'
import { s3ForSuite } from '../../support/s3-suite.js'
import { emptyBucket, hiddenKeys, listKeys, readObject } from './s3-support.js'
import { manualClock, writerContext } from './support.js'

const S3 = suite('bucketing file sink on S3: multipart lifecycle')
const BUCKET = 'sink-bucket'
const MiB = 1024 * 1024
const silent = createLogger({ level: 'silent' })

const s3 = s3ForSuite(S3, [BUCKET])
S3.after.each(async () => {
  await emptyBucket(s3.server, s3.client, BUCKET)
})

const writerOptions = (more: Partial<S3WriterOptions> = {}): S3WriterOptions => ({
  bucket: BUCKET,
  endpoint: s3.server.endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  ...more,
})

/** A record of exactly 1 KiB (1023 characters and the newline), numbered. */
const record = (i: number) => `${String(i).padStart(10, '0')}${'x'.repeat(1013)}`

/** Waits until `check` resolves true (polled: the server's state is read through requests). */
async function eventually(check: () => Promise<boolean>, description: string): Promise<void> {
  const deadline = performance.now() + 10_000
  while (!(await check())) {
    if (performance.now() > deadline) assert.unreachable(`timed out: ${description}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const exists = async (key: string) =>
  s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).then(
    () => true,
    () => false,
  )

S3(
  'parts are uploaded as the part grows; the barrier keeps the upload id and etags; only the completed checkpoint completes the upload',
  async () => {
    const sink = bucketingFileSink<string>('out', {
      writer: s3Writer(writerOptions()),
      bucketAssigner: basePathBucketAssigner(),
      logger: silent,
    })
    const writer = sink.createWriter(writerContext(manualClock()))
    await writer.ready?.()
    const records = 12 * 1024 // 12 MiB: two 5 MiB parts while writing, the 2 MiB tail on the barrier
    let expected = ''
    for (let i = 0; i < records; i++) {
      writer.write(record(i), undefined)
      expected += `${record(i)}\n`
      await writer.ready?.()
    }
    const listParts = async () => {
      const [upload] = await s3.server.uploads(BUCKET)
      if (upload === undefined) return []
      const answer = await s3.client.send(
        new ListPartsCommand({ Bucket: BUCKET, Key: upload.key, UploadId: upload.uploadId }),
      )
      return answer.Parts ?? []
    }
    await eventually(async () => (await listParts()).length === 2, 'two parts uploaded before any barrier')
    const [upload] = await s3.server.uploads(BUCKET)
    assert.is(upload!.key, 'out/part-0-0', 'the upload goes to the final key')
    const listed = { Parts: await listParts() }
    assert.equal(
      listed.Parts!.map((p) => p.Size),
      [5 * MiB, 5 * MiB],
    )

    const state = await writer.snapshotState!(1)
    const text = JSON.stringify(state)
    assert.ok(text.includes(upload!.uploadId), 'the checkpoint keeps the upload id')
    for (const part of listed.Parts!) assert.ok(text.includes(JSON.stringify(part.ETag).slice(1, -1)), 'and each etag')
    assert.is(
      (await s3.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: upload!.key, UploadId: upload!.uploadId })))
        .Parts!.length,
      3,
      'the tail below 5 MiB went up as the last part',
    )
    assert.not.ok(await exists('out/part-0-0'), 'pre-committed, not visible')

    await writer.notifyCheckpointComplete!(1)
    assert.ok(
      (await readObject(s3.client, BUCKET, 'out/part-0-0')).equals(Buffer.from(expected)),
      'the object is the records',
    )
    assert.equal(await s3.server.uploads(BUCKET), [], 'no upload left')
    await writer.close()
  },
)

S3(
  'a restore completes the uploads the checkpoint names and aborts those it does not: none is left behind',
  async () => {
    const sink = bucketingFileSink<string>('restore', {
      writer: s3Writer(writerOptions()),
      bucketAssigner: basePathBucketAssigner(),
      logger: silent,
    })
    const crashed = sink.createWriter(writerContext(manualClock()))
    await crashed.ready?.()
    crashed.write('a', undefined)
    crashed.write('b', undefined)
    const state1 = await crashed.snapshotState!(1)
    crashed.write('c', undefined)
    await crashed.snapshotState!(2) // pre-committed, but checkpoint 2 never completes
    for (let i = 0; i < 6 * 1024; i++) crashed.write(record(i), undefined) // an upload with a part, in progress
    await eventually(
      async () => (await s3.server.uploads(BUCKET)).length === 3,
      'three uploads: pending 1, pending 2, and the in-progress part after its first part',
    )
    // the process dies: nothing of `crashed` runs any more; a new sink instance restores checkpoint 1
    const restoredSink = bucketingFileSink<string>('restore', {
      writer: s3Writer(writerOptions()),
      bucketAssigner: basePathBucketAssigner(),
      logger: silent,
    })
    const restored = restoredSink.createWriter(writerContext(manualClock()), state1)
    await restored.ready?.()
    assert.equal(await listKeys(s3.client, BUCKET, 'restore/'), ['restore/part-0-0'])
    assert.is((await readObject(s3.client, BUCKET, 'restore/part-0-0')).toString(), 'a\nb\n')
    assert.equal(await s3.server.uploads(BUCKET), [], 'the uploads checkpoint 1 does not name were aborted')
    restored.write('c', undefined)
    await restored.snapshotState!(3)
    await restored.notifyCheckpointComplete!(3)
    assert.equal(await listKeys(s3.client, BUCKET, 'restore/'), ['restore/part-0-0', 'restore/part-0-3'])
    assert.is(
      (await readObject(s3.client, BUCKET, 'restore/part-0-3')).toString(),
      'c\n',
      'the counter moved past every name used',
    )
    await restored.close()
    await Promise.resolve(crashed.close()).catch(() => undefined)
  },
)

S3(
  'persist and recover: the tail goes to a temporary object; a recovered part resumes from the checkpointed bytes',
  async () => {
    const writer = s3Writer(writerOptions())
    const ref = {
      bucket: 'b',
      name: 'part-0-0',
      inProgress: '.part-0-0.inprogress.00000000-0000-0000-0000-000000000000',
    }
    const first = await writer.open('resume', ref)
    const head = Buffer.alloc(5 * MiB + 100, 'h')
    await first.write(head.subarray(0, 5 * MiB)) // a whole part: uploaded
    await first.write(head.subarray(5 * MiB))
    const resumable = await first.persist()
    const state = resumable.recoverable as { uploadId: string; parts: unknown[]; tail: string }
    assert.is(state.parts.length, 1, 'one whole part uploaded')
    assert.equal(
      hiddenKeys(await listKeys(s3.client, BUCKET, 'resume/')),
      [`resume/b/${state.tail}`],
      'the 100-byte tail is a temporary object',
    )
    await first.write(Buffer.from('lost after the checkpoint'))
    // a crash: the stream is dropped; the checkpoint's resumable is all that is left
    const second = await writer.recover('resume', resumable)
    await second.write(Buffer.from('tail'))
    const committable = await second.closeForCommit()
    assert.is(await writer.commitAfterRecovery('resume', [committable], silent), 'committed')
    const body = await readObject(s3.client, BUCKET, 'resume/b/part-0-0')
    assert.ok(
      body.equals(Buffer.concat([head, Buffer.from('tail')])),
      'the checkpointed bytes and what came after the recovery',
    )
    assert.equal(
      await listKeys(s3.client, BUCKET, 'resume/'),
      ['resume/b/part-0-0'],
      'the temporary object is deleted on commit',
    )
    assert.is(
      await writer.commitAfterRecovery('resume', [committable], silent),
      'already-committed',
      'a repeated commit is fine',
    )
    assert.equal(await s3.server.uploads(BUCKET), [])
    writer.destroy()
  },
)

S3('a temporary object and an upload of the subtask that no checkpoint names are deleted on restore', async () => {
  const writer = s3Writer(writerOptions())
  const ref = { bucket: '', name: 'part-0-7', inProgress: '.part-0-7.inprogress.00000000-0000-0000-0000-000000000001' }
  const orphan = await writer.open('orphans', ref)
  await orphan.write(Buffer.from('orphaned'))
  await orphan.persist() // an upload and a temporary object, named by no checkpoint that is restored
  const sink = bucketingFileSink<string>('orphans', {
    writer,
    bucketAssigner: basePathBucketAssigner(),
    logger: silent,
  })
  const first = sink.createWriter(writerContext(manualClock()))
  first.write('kept', undefined)
  const state = await first.snapshotState!(1)
  const restored = bucketingFileSink<string>('orphans', {
    writer: s3Writer(writerOptions()),
    bucketAssigner: basePathBucketAssigner(),
    logger: silent,
  }).createWriter(writerContext(manualClock()), state)
  await restored.ready?.()
  assert.equal(await listKeys(s3.client, BUCKET, 'orphans/'), ['orphans/part-0-8'], 'only the committed part')
  assert.equal(await s3.server.uploads(BUCKET), [], 'the orphan upload was aborted')
  await restored.close()
  await first.close()
})

S3(
  'end of input: a bounded job without checkpoints leaves every part completed and no upload or temporary object',
  async () => {
    const { StreamEnvironment } = await import('../../../lib/index.js')
    const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent' })
    env.fromSequence(1, 5_000, { uid: 'numbers' }).sinkTo(
      bucketingFileSink<number>('bounded', {
        writer: s3Writer(writerOptions()),
        bucketAssigner: (x: number) => `mod=${x % 3}`,
        logger: silent,
      }),
      { uid: 'files' },
    )
    await env.execute()
    const keys = await listKeys(s3.client, BUCKET, 'bounded/')
    assert.equal(hiddenKeys(keys), [])
    assert.equal(await s3.server.uploads(BUCKET), [])
    const numbers: number[] = []
    for (const key of keys)
      numbers.push(...(await readObject(s3.client, BUCKET, key)).toString().trimEnd().split('\n').map(Number))
    assert.equal(
      numbers.sort((a, b) => a - b),
      Array.from({ length: 5_000 }, (_, i) => i + 1),
    )
  },
)

S3('an unreachable store fails with ERR_CONNECT after the retries', async () => {
  const sink = bucketingFileSink<string>('x', {
    writer: s3Writer(writerOptions({ endpoint: 'http://127.0.0.1:1', retry: { maxRetries: 2, initialDelayMs: 1 } })),
    logger: silent,
  })
  const writer = sink.createWriter(writerContext(manualClock()))
  const error = await Promise.resolve(writer.ready?.()).then(
    () => undefined,
    (e: unknown) => e as { code?: string; message: string },
  )
  assert.is(error?.code, 'ERR_CONNECT')
  assert.match(error!.message, /after 3 attempt\(s\)/)
  assert.match(error!.message, /s3:\/\/sink-bucket/)
  await Promise.resolve(writer.close()).catch(() => undefined)
})

S3(
  'a refused credential fails with ERR_CONNECT; neither the key id nor the secret is in the error or the log',
  async () => {
    const lines: string[] = []
    const logger = createLogger({ level: 'debug', write: (line: string) => lines.push(line) })
    const accessKeyId = 'AKIAEXAMPLEKEYID4242'
    const secretAccessKey = 'wJalrXUtnFEMI-very-secret-42'
    const sink = bucketingFileSink<string>('x', {
      writer: s3Writer(
        writerOptions({ credentials: { accessKeyId, secretAccessKey }, retry: { maxRetries: 1, initialDelayMs: 1 } }),
      ),
      logger,
    })
    const writer = sink.createWriter(writerContext(manualClock()))
    const error = await Promise.resolve(writer.ready?.()).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    )
    assert.is(error?.code, 'ERR_CONNECT')
    const everything = [
      error!.message,
      String((error as { cause?: unknown }).cause),
      JSON.stringify(error),
      ...lines,
    ].join('\n')
    assert.not.ok(everything.includes(accessKeyId), 'no key id')
    assert.not.ok(everything.includes(secretAccessKey), 'no secret')
    await Promise.resolve(writer.close()).catch(() => undefined)
  },
)

S3('bad options fail when the sink is built, naming the option; a credential is not printed', () => {
  assert.throws(() => s3Writer(writerOptions({ partSizeBytes: 1024 })), /s3Writer\.partSizeBytes/)
  assert.throws(
    () => s3Writer({ ...writerOptions(), endpiont: 'x' } as never),
    /s3Writer\.endpiont.*did you mean endpoint/,
  )
  assert.throws(() => s3Writer(writerOptions({ bucket: 'a' })), /s3Writer\.bucket/)
  try {
    s3Writer(writerOptions({ credentials: { accessKeyId: 'AKIAPRINTED', secretAccessKey: '' } }))
    assert.unreachable('refused')
  } catch (error) {
    assert.match((error as Error).message, /s3Writer\.credentials\.secretAccessKey/)
    assert.not.ok((error as Error).message.includes('AKIAPRINTED'))
  }
  assert.throws(
    () => bucketingFileSink('x', { writer: s3Writer(writerOptions()), fileSystem: {} as never }),
    /bucketingFileSink\.writer/,
  )
})

S3.run()

import { randomUUID } from 'node:crypto'
import type { RecoverableStream } from '../recoverable-writer.js'
import type { PartFileRef } from '../transaction-state.js'
import { type S3Requests, isNotFound, s3Sdk } from './s3-requests.js'

/** An uploaded part of a multipart upload, as the checkpoint keeps it. */
export interface UploadedPart {
  readonly partNumber: number
  readonly etag: string
}

/**
 * What a checkpoint keeps of an S3 part (`PartFileRef.recoverable`): the upload and its parts; for a
 * persisted (resumable) part also the temporary object holding the bytes below a part's size; and the
 * temporary objects of earlier persists, deleted once the upload is completed or dropped.
 */
export interface MultipartState {
  readonly uploadId: string
  readonly parts: readonly UploadedPart[]
  readonly size: number
  readonly tail?: string
  readonly tails?: readonly string[]
}

/** Where a part's objects are: `key` the final object's, `directory` the key prefix of its temporary objects. */
export interface PartKeys {
  readonly key: string
  readonly directory: string
}

/**
 * An in-progress part written as an S3 multipart upload (Flink's S3RecoverableFsDataOutputStream).
 * Bytes are buffered until `partSizeBytes`, then uploaded as the next part (the write waits for it, so
 * at most one part is held per open part). The upload is created with the first part, or at `persist` /
 * `closeForCommit`. `persist` writes the buffered tail as a temporary object and returns the upload id,
 * the parts' etags and that object; `closeForCommit` uploads the tail as the last part (S3 allows the
 * last part to be small) and returns the upload to complete. Nothing is visible under `key` until the
 * upload is completed.
 *
 * @example
 * const stream = new S3MultipartStream(requests, keys, ref, 5 << 20)
 * await stream.write(bytes); const committable = await stream.closeForCommit()
 */
export class S3MultipartStream implements RecoverableStream {
  private chunks: Uint8Array[] = []
  private buffered = 0
  private uploadId: string | undefined
  private readonly parts: UploadedPart[]
  private readonly tails: string[]
  private size: number
  private closed = false

  constructor(
    private readonly requests: S3Requests,
    private readonly keys: PartKeys,
    private readonly ref: PartFileRef,
    private readonly partSizeBytes: number,
    resumed?: { state: MultipartState; tail: Uint8Array },
  ) {
    this.uploadId = resumed?.state.uploadId
    this.parts = [...(resumed?.state.parts ?? [])]
    this.tails = [...(resumed?.state.tails ?? []), ...(resumed?.state.tail === undefined ? [] : [resumed.state.tail])]
    this.size = resumed?.state.size ?? 0
    if (resumed !== undefined && resumed.tail.byteLength > 0) {
      this.chunks.push(resumed.tail)
      this.buffered = resumed.tail.byteLength
    }
  }

  async write(data: Uint8Array): Promise<void> {
    this.chunks.push(data)
    this.buffered += data.byteLength
    this.size += data.byteLength
    if (this.buffered >= this.partSizeBytes) await this.uploadBuffered()
  }

  async persist(): Promise<PartFileRef> {
    const uploadId = await this.upload()
    const body = this.takeBuffered()
    // the tail stays buffered: the stream goes on writing after a persist
    this.chunks = body.byteLength === 0 ? [] : [body]
    this.buffered = body.byteLength
    let tail: string | undefined
    if (body.byteLength > 0) {
      tail = `.${this.ref.name}.inprogress.${randomUUID()}`
      const { PutObjectCommand } = s3Sdk('s3Writer')
      await this.requests.send(
        'PutObject (the tail of a persisted part)',
        new PutObjectCommand({
          Bucket: this.requests.settings.bucket,
          Key: `${this.keys.directory}${tail}`,
          Body: body,
        }),
      )
    }
    const state: MultipartState = {
      uploadId,
      parts: [...this.parts],
      size: this.size,
      ...(tail === undefined ? {} : { tail }),
      ...(this.tails.length === 0 ? {} : { tails: [...this.tails] }),
    }
    if (tail !== undefined) this.tails.push(tail)
    return { ...this.ref, recoverable: { ...state } }
  }

  async closeForCommit(): Promise<PartFileRef> {
    // the last part may be small; an empty object is one empty part
    if (this.buffered > 0 || this.parts.length === 0) await this.uploadBuffered()
    this.closed = true
    const state: MultipartState = {
      uploadId: this.uploadId!,
      parts: [...this.parts],
      size: this.size,
      ...(this.tails.length === 0 ? {} : { tails: [...this.tails] }),
    }
    return { ...this.ref, recoverable: { ...state } }
  }

  /**
   * Makes what was written one complete object under `key` now, for a stream never persisted: a single
   * PutObject while no part was uploaded (a small part costs one request), else the tail as the last
   * part and CompleteMultipartUpload. An upload already gone with its object there was completed by an
   * attempt whose answer was lost. Returns the object's size.
   */
  async complete(): Promise<number> {
    const { PutObjectCommand, CompleteMultipartUploadCommand, HeadObjectCommand } = s3Sdk('s3Writer')
    const { bucket } = this.requests.settings
    const key = this.keys.key
    this.closed = true
    if (this.uploadId === undefined) {
      await this.requests.send(
        'PutObject',
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: this.takeBuffered() }),
      )
      return this.size
    }
    if (this.buffered > 0) await this.uploadBuffered()
    try {
      await this.requests.send(
        'CompleteMultipartUpload',
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: this.parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      )
    } catch (error) {
      if (!isNotFound(error)) throw error
      await this.requests.send('HeadObject', new HeadObjectCommand({ Bucket: bucket, Key: key }))
    }
    return this.size
  }

  async dispose(): Promise<void> {
    this.chunks = []
    this.buffered = 0
    if (this.closed) return
    this.closed = true
    if (this.uploadId === undefined) return
    const { AbortMultipartUploadCommand } = s3Sdk('s3Writer')
    await this.requests
      .send(
        'AbortMultipartUpload',
        new AbortMultipartUploadCommand({
          Bucket: this.requests.settings.bucket,
          Key: this.keys.key,
          UploadId: this.uploadId,
        }),
      )
      .catch(() => undefined) // a restore's scan aborts what is left
  }

  private async upload(): Promise<string> {
    if (this.uploadId !== undefined) return this.uploadId
    const { CreateMultipartUploadCommand } = s3Sdk('s3Writer')
    const created = await this.requests.send<{ UploadId?: string }>(
      'CreateMultipartUpload',
      new CreateMultipartUploadCommand({ Bucket: this.requests.settings.bucket, Key: this.keys.key }),
    )
    this.uploadId = created.UploadId!
    return this.uploadId
  }

  private async uploadBuffered(): Promise<void> {
    const uploadId = await this.upload()
    const body = this.takeBuffered()
    const partNumber = this.parts.length + 1
    const { UploadPartCommand } = s3Sdk('s3Writer')
    const answer = await this.requests.send<{ ETag?: string }>(
      `UploadPart ${partNumber}`,
      new UploadPartCommand({
        Bucket: this.requests.settings.bucket,
        Key: this.keys.key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: body,
      }),
    )
    this.parts.push({ partNumber, etag: answer.ETag! })
  }

  private takeBuffered(): Buffer {
    const only = this.chunks.length === 1 ? this.chunks[0]! : undefined
    const body =
      only === undefined ? Buffer.concat(this.chunks) : Buffer.from(only.buffer, only.byteOffset, only.byteLength)
    this.chunks = []
    this.buffered = 0
    return body
  }
}

import type { CommitOutcome } from '../../../checkpoint/two-phase-commit-sink.js'
import { ConnectorError, messageOf } from '../../../errors.js'
import type { Logger } from '../../../logging.js'
import type { OutputFileConfig } from '../output-file-config.js'
import type { FoundInProgressPart, PartScan, RecoverableStream, RecoverableWriter } from '../recoverable-writer.js'
import type { PartFileRef } from '../transaction-state.js'
import { S3HiddenPartStream, isHiddenObject } from './hidden-part-stream.js'
import { type MultipartState, type PartKeys, S3MultipartStream } from './multipart-stream.js'
import { type S3WriterOptions, resolveS3Options } from './s3-options.js'
import { S3Requests, isNotFound, s3Sdk } from './s3-requests.js'

/**
 * The bucketing file sink's store on S3 (or an S3-compatible store), a {@link RecoverableWriter} on
 * multipart uploads, as Flink's S3 recoverable writer: a part is an upload to its final key, invisible
 * until the commit completes it with the parts' etags the checkpoint kept. The sink's `basePath` is the
 * key prefix. A restore completes the uploads of pending parts (an upload already completed is found as
 * its object), and aborts the subtask's uploads and deletes its temporary objects that the restored
 * checkpoint does not name, so none is left behind. A key is never renamed: S3 cannot rename.
 *
 * With compaction, the sink's parts are written with `openForCompaction`: each becomes a complete object
 * under its hidden name when closed (`read` reads it back, `discard` deletes it), and compaction merges
 * them into new multipart uploads to final keys.
 *
 * @example
 * stream.sinkTo(bucketingFileSink('events', { writer: s3Writer({ bucket: 'archive', region: 'eu-west-1' }) }))
 */
export class S3RecoverableWriter implements RecoverableWriter {
  readonly name: string
  readonly requests: S3Requests

  constructor(options: S3WriterOptions) {
    const settings = resolveS3Options(options)
    s3Sdk('s3Writer')
    this.requests = new S3Requests(settings)
    this.name = `s3://${settings.bucket}`
  }

  async open(basePath: string, ref: PartFileRef): Promise<RecoverableStream> {
    return new S3MultipartStream(this.requests, this.keys(basePath, ref), ref, this.requests.settings.partSizeBytes)
  }

  async openForCompaction(basePath: string, ref: PartFileRef): Promise<RecoverableStream> {
    const { directory } = this.keys(basePath, ref)
    const keys = { key: `${directory}${ref.inProgress}`, directory }
    return new S3HiddenPartStream(
      new S3MultipartStream(this.requests, keys, ref, this.requests.settings.partSizeBytes),
      ref,
    )
  }

  async read(basePath: string, committable: PartFileRef): Promise<Uint8Array> {
    const { GetObjectCommand } = s3Sdk('s3Writer')
    const key = `${this.keys(basePath, committable).directory}${committable.inProgress}`
    const got = await this.requests.send<{ Body?: { transformToByteArray(): Promise<Uint8Array> } }>(
      'GetObject (a part to compact)',
      new GetObjectCommand({ Bucket: this.requests.settings.bucket, Key: key }),
    )
    return got.Body!.transformToByteArray()
  }

  async recover(basePath: string, resumable: PartFileRef): Promise<RecoverableStream> {
    const state = multipartState(resumable)
    const keys = this.keys(basePath, resumable)
    const { bucket } = this.requests.settings
    const sdk = s3Sdk('s3Writer')
    const fail = (why: string) =>
      new ConnectorError('ERR_RECOVERY', `bucketingFileSink: cannot resume ${keys.key} on ${this.name}: ${why}`)
    if (state === undefined) throw fail('the checkpoint names no multipart upload')
    let listed: Array<{ PartNumber?: number; ETag?: string }>
    try {
      listed = await this.listParts(keys.key, state.uploadId)
    } catch (error) {
      if (isNotFound(error)) throw fail(`its upload ${state.uploadId} is gone (completed or aborted)`)
      throw error
    }
    const etags = new Map(listed.map((p) => [p.PartNumber, p.ETag]))
    const missing = state.parts.filter((p) => etags.get(p.partNumber) !== p.etag)
    if (missing.length > 0) throw fail(`part ${missing[0]!.partNumber} of the upload is not the one checkpointed`)
    let tail: Uint8Array = new Uint8Array(0)
    if (state.tail !== undefined) {
      const got = await this.requests.send<{ Body?: { transformToByteArray(): Promise<Uint8Array> } }>(
        'GetObject (the tail of a persisted part)',
        new sdk.GetObjectCommand({ Bucket: bucket, Key: `${keys.directory}${state.tail}` }),
      )
      tail = await got.Body!.transformToByteArray()
    }
    const { recoverable: _, ...ref } = resumable
    return new S3MultipartStream(this.requests, keys, ref, this.requests.settings.partSizeBytes, { state, tail })
  }

  commit(basePath: string, committables: readonly PartFileRef[], log: Logger): Promise<CommitOutcome> {
    return this.complete(basePath, committables, log)
  }

  commitAfterRecovery(basePath: string, committables: readonly PartFileRef[], log: Logger): Promise<CommitOutcome> {
    return this.complete(basePath, committables, log)
  }

  async discard(basePath: string, refs: readonly PartFileRef[]): Promise<void> {
    await Promise.all(
      refs.map(async (ref) => {
        const keys = this.keys(basePath, ref)
        if (isHiddenObject(ref)) {
          const { DeleteObjectCommand } = s3Sdk('s3Writer')
          const key = `${keys.directory}${ref.inProgress}`
          await this.requests.send(
            'DeleteObject',
            new DeleteObjectCommand({ Bucket: this.requests.settings.bucket, Key: key }),
          )
          return
        }
        const state = multipartState(ref)
        if (state === undefined) return
        await this.abortUpload(keys.key, state.uploadId)
        await this.deleteTails(keys, state)
      }),
    )
  }

  async scan(basePath: string, names: OutputFileConfig, subtask: number): Promise<PartScan> {
    const prefix = keyPrefix(basePath)
    const { bucket } = this.requests.settings
    const sdk = s3Sdk('s3Writer')
    let maxCounter = -1
    const inProgress: FoundInProgressPart[] = []
    const consider = (key: string, id: (name: string) => string | undefined) => {
      const relative = key.slice(prefix.length)
      const at = relative.lastIndexOf('/')
      const name = relative.slice(at + 1)
      const parsed = names.parse(name)
      if (parsed === undefined || parsed.subtask !== subtask) return
      if (parsed.counter > maxCounter) maxCounter = parsed.counter
      const found = id(name)
      if (found !== undefined) inProgress.push({ bucket: at < 0 ? '' : relative.slice(0, at), name, id: found })
    }
    let token: string | undefined
    do {
      const page = await this.requests.send<{
        Contents?: Array<{ Key?: string }>
        IsTruncated?: boolean
        NextContinuationToken?: string
      }>('ListObjectsV2', new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }))
      for (const object of page.Contents ?? [])
        consider(object.Key!, (name) => (names.parse(name)?.inProgress ? `object:${name}` : undefined))
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined
    } while (token !== undefined)
    let keyMarker: string | undefined
    let uploadIdMarker: string | undefined
    do {
      const page = await this.requests.send<{
        Uploads?: Array<{ Key?: string; UploadId?: string }>
        IsTruncated?: boolean
        NextKeyMarker?: string
        NextUploadIdMarker?: string
      }>(
        'ListMultipartUploads',
        new sdk.ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      )
      for (const upload of page.Uploads ?? []) consider(upload.Key!, () => `upload:${upload.UploadId}`)
      const more = page.IsTruncated === true
      keyMarker = more ? page.NextKeyMarker : undefined
      uploadIdMarker = more ? page.NextUploadIdMarker : undefined
    } while (keyMarker !== undefined)
    return { maxCounter, inProgress }
  }

  identities(ref: PartFileRef): readonly string[] {
    if (isHiddenObject(ref)) return [`object:${ref.inProgress}`]
    const state = multipartState(ref)
    if (state === undefined) return []
    return [
      `upload:${state.uploadId}`,
      ...[...(state.tails ?? []), ...(state.tail === undefined ? [] : [state.tail])].map((t) => `object:${t}`),
    ]
  }

  async deleteStale(basePath: string, found: readonly FoundInProgressPart[]): Promise<void> {
    const { bucket } = this.requests.settings
    const { DeleteObjectCommand } = s3Sdk('s3Writer')
    await Promise.all(
      found.map(async (f) => {
        const { key } = this.keys(basePath, f)
        if (f.id.startsWith('upload:')) await this.abortUpload(key, f.id.slice('upload:'.length))
        else await this.requests.send('DeleteObject', new DeleteObjectCommand({ Bucket: bucket, Key: key }))
      }),
    )
  }

  /** Closes the S3 client's connections. */
  destroy(): void {
    this.requests.destroy()
  }

  private keys(basePath: string, ref: { bucket: string; name: string }): PartKeys {
    const directory = `${keyPrefix(basePath)}${ref.bucket === '' ? '' : `${ref.bucket}/`}`
    return { key: `${directory}${ref.name}`, directory }
  }

  /** Completes each part's upload; an upload gone with its object there is a commit that happened. */
  private async complete(basePath: string, refs: readonly PartFileRef[], log: Logger): Promise<CommitOutcome> {
    const { bucket } = this.requests.settings
    const sdk = s3Sdk('s3Writer')
    const outcomes = await Promise.all(
      refs.map(async (ref): Promise<CommitOutcome> => {
        const state = multipartState(ref)
        const keys = this.keys(basePath, ref)
        if (state === undefined) {
          log.warn('pending part names no multipart upload: nothing to complete', { key: keys.key })
          return 'already-committed'
        }
        try {
          await this.requests.send(
            'CompleteMultipartUpload',
            new sdk.CompleteMultipartUploadCommand({
              Bucket: bucket,
              Key: keys.key,
              UploadId: state.uploadId,
              MultipartUpload: { Parts: state.parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
            }),
          )
          await this.deleteTails(keys, state)
          return 'committed'
        } catch (error) {
          if (!isNotFound(error)) {
            log.warn('multipart upload completion failed; retrying later', { key: keys.key, reason: messageOf(error) })
            return 'retry-later'
          }
        }
        if (!(await this.exists(keys.key)))
          log.warn(
            'pending part upload is gone and its object too: it was completed and then moved or deleted, or aborted',
            { key: keys.key, uploadId: state.uploadId },
          )
        await this.deleteTails(keys, state)
        return 'already-committed'
      }),
    )
    if (outcomes.includes('retry-later')) return 'retry-later'
    if (outcomes.length > 0 && outcomes.every((o) => o === 'already-committed')) return 'already-committed'
    return 'committed'
  }

  private async listParts(key: string, uploadId: string): Promise<Array<{ PartNumber?: number; ETag?: string }>> {
    const { ListPartsCommand } = s3Sdk('s3Writer')
    const parts: Array<{ PartNumber?: number; ETag?: string }> = []
    let marker: string | undefined
    do {
      const page = await this.requests.send<{
        Parts?: Array<{ PartNumber?: number; ETag?: string }>
        IsTruncated?: boolean
        NextPartNumberMarker?: string
      }>(
        'ListParts',
        new ListPartsCommand({
          Bucket: this.requests.settings.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumberMarker: marker,
        }),
      )
      parts.push(...(page.Parts ?? []))
      marker = page.IsTruncated === true ? page.NextPartNumberMarker : undefined
    } while (marker !== undefined)
    return parts
  }

  private async abortUpload(key: string, uploadId: string): Promise<void> {
    const { AbortMultipartUploadCommand } = s3Sdk('s3Writer')
    try {
      await this.requests.send(
        'AbortMultipartUpload',
        new AbortMultipartUploadCommand({ Bucket: this.requests.settings.bucket, Key: key, UploadId: uploadId }),
      )
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
  }

  private async deleteTails(keys: PartKeys, state: MultipartState): Promise<void> {
    const { DeleteObjectCommand } = s3Sdk('s3Writer')
    const tails = [...(state.tails ?? []), ...(state.tail === undefined ? [] : [state.tail])]
    await Promise.all(
      tails.map((tail) =>
        this.requests.send(
          'DeleteObject',
          new DeleteObjectCommand({ Bucket: this.requests.settings.bucket, Key: `${keys.directory}${tail}` }),
        ),
      ),
    )
  }

  private async exists(key: string): Promise<boolean> {
    const { HeadObjectCommand } = s3Sdk('s3Writer')
    try {
      await this.requests.send('HeadObject', new HeadObjectCommand({ Bucket: this.requests.settings.bucket, Key: key }))
      return true
    } catch (error) {
      if (isNotFound(error)) return false
      throw error
    }
  }
}

/**
 * An {@link S3RecoverableWriter}: pass it as the bucketing file sink's `writer`, with the key prefix as
 * its base path.
 *
 * @example
 * bucketingFileSink('events/orders', { writer: s3Writer({ bucket: 'archive', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true }) })
 */
export function s3Writer(options: S3WriterOptions): S3RecoverableWriter {
  return new S3RecoverableWriter(options)
}

/** The key prefix of a base path: no leading '/', one trailing '/' ('' for the bucket's root). */
function keyPrefix(basePath: string): string {
  const trimmed = basePath.replace(/^\/+|\/+$/g, '')
  return trimmed === '' ? '' : `${trimmed}/`
}

/** The multipart upload a checkpointed part names, if any (checked: it comes from a checkpoint). */
function multipartState(ref: PartFileRef): MultipartState | undefined {
  const r = ref.recoverable as Partial<MultipartState> | undefined
  if (r === undefined || typeof r.uploadId !== 'string' || !Array.isArray(r.parts)) return undefined
  return r as MultipartState
}

import { ConnectorError } from '../../../errors.js'
import type { RecoverableStream } from '../recoverable-writer.js'
import type { PartFileRef } from '../transaction-state.js'
import type { S3MultipartStream } from './multipart-stream.js'

/**
 * What a checkpoint keeps of a part that compaction reads back on S3 (`PartFileRef.recoverable`): the
 * part is a complete object under its hidden in-progress name, of `size` bytes.
 */
export interface HiddenObjectState {
  readonly hiddenObject: true
  readonly size: number
}

/**
 * True when a checkpointed part is a complete hidden object (checked: it comes from a checkpoint).
 *
 * @example
 * if (isHiddenObject(ref)) await deleteObject(`${directory}${ref.inProgress}`)
 */
export function isHiddenObject(ref: PartFileRef): boolean {
  const r = ref.recoverable as Partial<HiddenObjectState> | undefined
  return r?.hiddenObject === true && typeof r.size === 'number'
}

/**
 * A part on S3 that compaction will read (Flink's compaction on a store without rename, which commits
 * the parts to compact under hidden names first): written as a multipart upload to the part's hidden
 * key, `<bucket>/.part-<subtask>-<n>.inprogress.<uuid>`, at most one part buffered, and made a complete
 * object by `closeForCommit` — in the pre-commit, so that the same pre-commit can merge it. Readers skip
 * it (a dot-name), the checkpoint names it, and a restore deletes it when the checkpoint does not; once
 * its records are merged into a part under a final key and that part is committed, it is deleted.
 *
 * @example
 * const stream = new S3HiddenPartStream(new S3MultipartStream(requests, { key: hiddenKey, directory }, ref, 5 << 20), ref)
 * await stream.write(bytes); const held = await stream.closeForCommit() // { ..., recoverable: { hiddenObject: true, size } }
 */
export class S3HiddenPartStream implements RecoverableStream {
  constructor(
    private readonly upload: S3MultipartStream,
    private readonly ref: PartFileRef,
  ) {}

  write(data: Uint8Array): Promise<void> {
    return this.upload.write(data)
  }

  /** Refused: the sink rolls every part on each barrier, so a part compaction reads is never resumed. */
  async persist(): Promise<PartFileRef> {
    throw new ConnectorError(
      'ERR_RECOVERY',
      `bucketingFileSink: a part kept for compaction (${this.ref.inProgress}) is closed on each checkpoint, never persisted to be resumed`,
    )
  }

  async closeForCommit(): Promise<PartFileRef> {
    const state: HiddenObjectState = { hiddenObject: true, size: await this.upload.complete() }
    return { ...this.ref, recoverable: { ...state } }
  }

  dispose(): Promise<void> {
    return this.upload.dispose()
  }
}

import type { Logger } from '../../../logging.js'
import type { BucketTransaction, CompactedTransaction } from '../bucket-transaction.js'
import type { PartOutput } from '../encoders/encoder.js'
import type { RecoverableWriter } from '../recoverable-writer.js'
import type { HeldPartRef, PartFileRef } from '../transaction-state.js'
import type { CompactionSettings } from './compaction-options.js'
import type { PartMerger } from './part-merger.js'

/** What the compactor needs of the subtask: where parts go, and the name of a new part. */
export interface CompactorHost {
  readonly writer: RecoverableWriter
  readonly basePath: string
  /** A new part of `bucket`, named with the subtask's next part counter. */
  nextPart(bucket: string): PartFileRef
}

/**
 * Compaction of one subtask (Flink's CompactCoordinator and CompactorOperator, run inside the
 * pre-commit). On each pre-commit it takes the parts the transaction closed and the hidden parts held
 * from earlier checkpoints, and per bucket either holds them all again (not due), or publishes them:
 * one part as it is, several merged into one new part (written, closed for commit, not yet visible).
 * On a store whose parts are opened for compaction (`RecoverableWriter.openForCompaction`, S3: complete
 * objects under hidden keys), a single part is written again into a new part too, as no hidden key can
 * become a final one.
 *
 * Why this is exactly-once: the checkpoint is the commit point. The state of the checkpoint a
 * transaction is pre-committed for names the merged file as a part to publish and its sources as files
 * to delete after; the state of every earlier checkpoint names the sources as held and knows nothing of
 * the merged file. Restored from that checkpoint or a later one, the commit is (re)done: the merged
 * file made visible (renamed; on S3 its upload completed), then the sources deleted, each step
 * idempotent. Restored from an earlier one, the merged file is an in-progress file (an upload) no
 * checkpoint names, deleted (aborted) by the restore scan, and the
 * sources are held again and merged anew. Sources are never made visible, so at no point can both a
 * merged file and its sources be read.
 *
 * @example
 * txn.compaction = await compactor.compact(txn, heldFromEarlierCheckpoints, false)
 */
export class PartCompactor {
  constructor(
    private readonly settings: CompactionSettings,
    private readonly merge: PartMerger,
    private readonly host: CompactorHost,
    private readonly log: Logger,
  ) {}

  /** Decides, and merges, per bucket; `final` (end of input) makes every bucket due. */
  async compact(txn: BucketTransaction, held: readonly HeldPartRef[], final: boolean): Promise<CompactedTransaction> {
    const result: CompactedTransaction = { publish: [], removed: [], held: [], merged: [] }
    const waiting = new Map<string, HeldPartRef[]>()
    const add = (part: HeldPartRef): void => {
      const parts = waiting.get(part.part.bucket)
      if (parts === undefined) waiting.set(part.part.bucket, [part])
      else parts.push(part)
    }
    for (const part of held) add({ ...part, checkpoints: part.checkpoints + 1 })
    for (const part of txn.parts) {
      const ref = part.ref
      if (ref !== undefined) add({ part: ref, bytes: part.size, checkpoints: 1 })
    }
    for (const [bucket, parts] of waiting) {
      if (!final && !this.due(parts)) result.held.push(...parts)
      // a part opened for compaction (S3) is never committed itself: even alone it is written again
      else if (parts.length === 1 && this.host.writer.openForCompaction === undefined)
        result.publish.push(parts[0]!.part)
      else {
        result.publish.push(await this.mergeInto(bucket, parts, result))
        result.removed.push(...parts.map((p) => p.part))
      }
    }
    return result
  }

  private due(parts: readonly HeldPartRef[]): boolean {
    const { sizeThresholdBytes, checkpoints, maxFiles } = this.settings
    let bytes = 0
    let oldest = 0
    for (const part of parts) {
      bytes += part.bytes
      if (part.checkpoints > oldest) oldest = part.checkpoints
    }
    return bytes >= sizeThresholdBytes || oldest >= checkpoints || parts.length >= maxFiles
  }

  private async mergeInto(
    bucket: string,
    parts: readonly HeldPartRef[],
    result: CompactedTransaction,
  ): Promise<PartFileRef> {
    const { writer, basePath } = this.host
    const ref = this.host.nextPart(bucket)
    // named before it exists, so that aborting the transaction deletes a half-written file too
    const at = result.merged.push(ref) - 1
    const stream = await writer.open(basePath, ref)
    const output: PartOutput = { write: (chunk) => stream.write(chunk), end: async () => {} }
    try {
      await this.merge(readParts(writer, basePath, parts), output)
      const committable = await stream.closeForCommit()
      // what the store needs to discard it as well (an S3 upload id)
      result.merged[at] = committable
      this.log.info('merged part files', { bucket, name: ref.name, parts: parts.length })
      return committable
    } catch (error) {
      await stream.dispose().catch(() => undefined)
      throw error
    }
  }
}

async function* readParts(
  writer: RecoverableWriter,
  basePath: string,
  parts: readonly HeldPartRef[],
): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield await writer.read!(basePath, part.part)
}

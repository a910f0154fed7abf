import { ConnectorError } from '../../errors.js'
import type { CommitOutcome } from '../../checkpoint/two-phase-commit-sink.js'
import type { Logger } from '../../logging.js'
import type { FileSystem, WritableFile } from './file-system.js'
import type { OutputFileConfig } from './output-file-config.js'
import { bucketDirectory, commitPartFiles, deleteInProgressFiles } from './part-file-committer.js'
import type { FoundInProgressPart, PartScan, RecoverableStream, RecoverableWriter } from './recoverable-writer.js'
import { scanPartFiles } from './restore-scan.js'
import type { PartFileRef } from './transaction-state.js'

/**
 * The rename-based {@link RecoverableWriter} over any {@link FileSystem} (the local disk, WebHDFS): a
 * part is written under its hidden in-progress name, synced and closed for commit, and renamed to its
 * final name on commit. `persist` syncs and records the valid length; `recover` truncates the file back
 * to it (the store needs `truncate`) and appends.
 *
 * @example
 * const writer = new FileSystemRecoverableWriter(new LocalFileSystem())
 * const stream = await writer.open('/data/out', { bucket: 'a', name: 'part-0-0', inProgress: '.part-0-0.inprogress.x' })
 */
export class FileSystemRecoverableWriter implements RecoverableWriter {
  /** Bucket directories known to exist (a created directory is not created again). */
  private readonly directories = new Set<string>()
  readonly read: ((basePath: string, committable: PartFileRef) => Promise<Uint8Array>) | undefined

  constructor(readonly fileSystem: FileSystem) {
    const read = fileSystem.read
    this.read =
      read === undefined
        ? undefined
        : (basePath, ref) =>
            read.call(fileSystem, fileSystem.join(bucketDirectory(fileSystem, basePath, ref.bucket), ref.inProgress))
  }

  get name(): string {
    return this.fileSystem.name
  }

  async open(basePath: string, ref: PartFileRef): Promise<RecoverableStream> {
    const fs = this.fileSystem
    const directory = bucketDirectory(fs, basePath, ref.bucket)
    const path = fs.join(directory, ref.inProgress)
    if (!this.directories.has(directory)) {
      await fs.mkdirs(directory)
      this.directories.add(directory)
    }
    let file: WritableFile
    try {
      file = await fs.create(path, { mode: 'create' })
    } catch (error) {
      // Consumers often move a bucket's directory away once it looks complete; late records for that
      // bucket must still have somewhere to go.
      if ((error as NodeJS.ErrnoException)?.code !== 'ENOENT') throw error
      await fs.mkdirs(directory)
      file = await fs.create(path, { mode: 'create' })
    }
    return new FileSystemStream(file, ref, 0)
  }

  async recover(basePath: string, resumable: PartFileRef): Promise<RecoverableStream> {
    const fs = this.fileSystem
    const validLength = resumable.recoverable?.validLength
    const path = fs.join(bucketDirectory(fs, basePath, resumable.bucket), resumable.inProgress)
    if (fs.truncate === undefined || typeof validLength !== 'number')
      throw new ConnectorError(
        'ERR_RECOVERY',
        `bucketingFileSink: cannot resume ${path} on ${fs.name}: ${fs.truncate === undefined ? 'the store cannot truncate' : 'no valid length in the checkpoint'}`,
      )
    if ((await fs.truncate(path, validLength)) === 'valid-length')
      throw new ConnectorError(
        'ERR_RECOVERY',
        `bucketingFileSink: cannot resume ${path} on ${fs.name}: the store wrote a valid-length file instead of truncating`,
      )
    const { recoverable: _, ...ref } = resumable
    return new FileSystemStream(await fs.create(path, { mode: 'append' }), ref, validLength)
  }

  commit(basePath: string, committables: readonly PartFileRef[], log: Logger): Promise<CommitOutcome> {
    return commitPartFiles(this.fileSystem, basePath, committables, log)
  }

  commitAfterRecovery(basePath: string, committables: readonly PartFileRef[], log: Logger): Promise<CommitOutcome> {
    return commitPartFiles(this.fileSystem, basePath, committables, log)
  }

  discard(basePath: string, refs: readonly PartFileRef[]): Promise<void> {
    return deleteInProgressFiles(this.fileSystem, basePath, refs)
  }

  async syncBuckets(basePath: string, buckets: ReadonlySet<string>): Promise<void> {
    const fs = this.fileSystem
    if (fs.syncDirectory === undefined) return
    const directories = new Set([...buckets].map((bucket) => bucketDirectory(fs, basePath, bucket)))
    for (const directory of directories) await fs.syncDirectory(directory)
  }

  async scan(basePath: string, names: OutputFileConfig, subtask: number): Promise<PartScan> {
    const scan = await scanPartFiles(this.fileSystem, basePath, names, subtask)
    return {
      maxCounter: scan.maxCounter,
      inProgress: scan.inProgress.map((f) => ({ bucket: f.bucket, name: f.name, id: `${f.bucket}/${f.name}` })),
    }
  }

  identities(ref: PartFileRef): readonly string[] {
    return [`${ref.bucket}/${ref.inProgress}`]
  }

  async deleteStale(basePath: string, found: readonly FoundInProgressPart[]): Promise<void> {
    const fs = this.fileSystem
    await Promise.all(found.map((f) => fs.delete(fs.join(bucketDirectory(fs, basePath, f.bucket), f.name))))
  }
}

/** A hidden file being written; `size` counts the bytes in it (the valid length `persist` records). */
class FileSystemStream implements RecoverableStream {
  private closed = false
  readonly releasesWrites: boolean
  readonly overlapsWrites: boolean

  constructor(
    private readonly file: WritableFile,
    private readonly ref: PartFileRef,
    private size: number,
  ) {
    this.releasesWrites = file.releasesWrites === true
    this.overlapsWrites = file.overlapsWrites === true
  }

  async write(data: Uint8Array): Promise<void> {
    await this.file.write(data)
    this.size += data.byteLength
  }

  async writev(chunks: readonly Uint8Array[]): Promise<void> {
    if (this.file.writev !== undefined) await this.file.writev(chunks)
    // overlapping writes claim their places when called: all at once, in order
    else if (this.overlapsWrites) await Promise.all(chunks.map((chunk) => this.file.write(chunk)))
    else for (const chunk of chunks) await this.file.write(chunk)
    for (const chunk of chunks) this.size += chunk.byteLength
  }

  async persist(): Promise<PartFileRef> {
    await this.file.sync()
    return { ...this.ref, recoverable: { validLength: this.size } }
  }

  async closeForCommit(): Promise<PartFileRef> {
    await this.file.sync()
    this.closed = true
    await this.file.close()
    return this.ref
  }

  async dispose(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.file.close().catch(() => undefined)
  }
}

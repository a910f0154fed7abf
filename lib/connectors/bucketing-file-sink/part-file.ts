import type { BlockWriter } from './encoders/block-encoder.js'
import type { PartOutput } from './encoders/encoder.js'
import type { RecoverableStream } from './recoverable-writer.js'
import type { PartFileInfo } from './rolling-policy.js'
import type { PartFileRef } from './transaction-state.js'

/**
 * Where a part file is in its life (Flink's in-progress / pending / finished):
 * - 'in-progress': open, taking records, under its hidden name;
 * - 'closing': rolled; its last bytes are being written and the part closed for commit;
 * - 'pending': closed and durable, still hidden, waiting for its checkpoint to complete;
 * - 'finished': made visible under its final name (after the commit);
 * - 'aborted': dropped with its transaction; its file is deleted.
 */
export type PartFileState = 'in-progress' | 'closing' | 'pending' | 'finished' | 'aborted'

/** An opened part and the output its encoder writes to. */
export interface OpenedPart {
  readonly stream: RecoverableStream
  readonly output: PartOutput
  /** With a block encoder: the part's writer, which takes the held records (`output.end` ends it). */
  readonly blocks?: BlockWriter<unknown>
}

/** What a part file needs of the subtask writing it. */
export interface PartFileHost {
  /** Names the part (`part.name`, `part.inProgressName`) and opens it on the store. */
  createFile(part: PartFile): Promise<OpenedPart>
  /** Bytes of the part are held in memory. */
  buffered(bytes: number): void
  /** Held bytes have been written to the file (or dropped). */
  released(bytes: number): void
  /** The part's I/O failed: the subtask must fail, or a record would be lost. */
  fail(error: unknown): void
  /** Held bytes of one part that trigger a write. */
  readonly writeBufferBytes: number
}

/**
 * One part file of a bucket. `append` is synchronous and allocation-light (records are batched into
 * chunks of `writeBufferBytes`); the file is created, written, synced and closed in the background, in
 * order, on one promise chain per part. The file is created lazily with the first chunk, and its name is
 * chosen then, so the subtask's counter is only consumed once the restore scan has set it.
 *
 * @example
 * const part = new PartFile('2024-01-01--10', Date.now(), host)
 * part.append('a\n', Date.now()); part.close(); await part.closed() // state 'pending'
 */
export class PartFile implements PartFileInfo {
  state: PartFileState = 'in-progress'
  /** The finished name; set when the file is created. */
  name: string | undefined
  /** The hidden name the file has until committed; set when the file is created. */
  inProgressName: string | undefined
  size = 0
  lastUpdateTime: number
  /** Encoded bytes held (row encoders), or records held (block encoders). */
  private chunks: unknown[] = []
  private chunkBytes = 0
  private binary = false
  private records = false
  private io: Promise<void> = Promise.resolve()
  private opened: OpenedPart | undefined
  private committable: PartFileRef | undefined
  private fileClosed = false
  private error: unknown

  constructor(
    readonly bucketId: string,
    readonly creationTime: number,
    private readonly host: PartFileHost,
    header?: string | Uint8Array,
  ) {
    this.lastUpdateTime = creationTime
    if (header !== undefined && header.length > 0) this.append(header, creationTime)
  }

  /** Adds one record's bytes. */
  append(data: string | Uint8Array, now: number): void {
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength
    this.chunks.push(data)
    if (typeof data !== 'string') this.binary = true
    this.chunkBytes += bytes
    this.size += bytes
    this.lastUpdateTime = now
    this.host.buffered(bytes)
    if (this.chunkBytes >= this.host.writeBufferBytes) this.flush()
  }

  /** Adds one record of a block encoder, which `check` sized at `bytes`. */
  appendRecord(value: unknown, bytes: number, now: number): void {
    this.chunks.push(value)
    this.records = true
    this.chunkBytes += bytes
    this.size += bytes
    this.lastUpdateTime = now
    this.host.buffered(bytes)
    if (this.chunkBytes >= this.host.writeBufferBytes) this.flush()
  }

  /** Hands the bytes (or records) held so far to the file. */
  flush(): void {
    const bytes = this.chunkBytes
    if (bytes === 0) return
    const chunks = this.chunks
    const binary = this.binary
    const records = this.records
    this.chunks = []
    this.chunkBytes = 0
    this.binary = false
    this.enqueue(async () => {
      if (records) {
        const { blocks } = await this.open()
        await blocks!.writeBlock(chunks, bytes)
        return
      }
      const data = binary
        ? Buffer.concat((chunks as Array<string | Uint8Array>).map((c) => (typeof c === 'string' ? Buffer.from(c) : c)))
        : Buffer.from((chunks as string[]).join(''))
      const { output } = await this.open()
      await output.write(data)
    }, bytes)
  }

  /** Rolls the part: writes what is held, ends the encoding, closes it for commit; then it is 'pending'. */
  close(): void {
    if (this.state !== 'in-progress') return
    this.state = 'closing'
    this.flush()
    this.enqueue(async () => {
      const opened = await this.open()
      await opened.output.end()
      this.fileClosed = true
      this.committable = await opened.stream.closeForCommit()
      this.state = 'pending'
    })
  }

  /** Drops the part: held bytes are discarded and its stream (if any) disposed; the caller discards it. */
  abort(): void {
    if (this.state === 'aborted' || this.state === 'finished') return
    this.state = 'aborted'
    const dropped = this.chunkBytes
    this.chunks = []
    this.chunkBytes = 0
    this.host.released(dropped)
    this.io = this.io.then(async () => {
      if (this.opened === undefined || this.fileClosed) return
      this.fileClosed = true
      await this.opened.stream.dispose().catch(() => undefined)
    })
  }

  /** Resolves once the part's I/O so far is done; never rejects. */
  settled(): Promise<void> {
    return this.io
  }

  /** Resolves once the part is 'pending'; rejects with the error that stopped its I/O. */
  async closed(): Promise<void> {
    await this.io
    if (this.error !== undefined) throw this.error
  }

  /** The part as a checkpoint names it, once it exists on the store (with its committable once closed). */
  get ref(): PartFileRef | undefined {
    if (this.committable !== undefined) return this.committable
    if (this.name === undefined || this.inProgressName === undefined) return undefined
    return { bucket: this.bucketId, name: this.name, inProgress: this.inProgressName }
  }

  private async open(): Promise<OpenedPart> {
    this.opened ??= await this.host.createFile(this)
    return this.opened
  }

  /** Runs `step` after the part's earlier I/O; a failed step skips the later ones of this part. */
  private enqueue(step: () => Promise<void>, bytes = 0): void {
    this.io = this.io.then(async () => {
      try {
        if (this.error === undefined && this.state !== 'aborted') await step()
      } catch (error) {
        this.error ??= error
        this.host.fail(error)
      } finally {
        if (bytes > 0) this.host.released(bytes)
      }
    })
  }
}

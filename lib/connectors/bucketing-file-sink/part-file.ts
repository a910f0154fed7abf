import type { BlockWriter } from './encoders/block-encoder.js'
import type { PartOutput } from './encoders/encoder.js'
import type { ChunkPool } from './chunk-pool.js'
import { PartBuffer } from './part-buffer.js'
import type { RecoverableStream } from './recoverable-writer.js'
import type { PartFileInfo } from './rolling-policy.js'
import type { PartFileRef } from './transaction-state.js'

/**
 * Direct writes of one part in flight at most: with two, the thread pool takes up the next the moment
 * one is done; more would only wait for the file's lock and hold threads other I/O needs.
 */
const MAX_DIRECT_WRITES = 2

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
  /** True when a chunk may go back to the pool once `output` has written it (nothing keeps it). */
  readonly releasesChunks?: boolean
  /** True when `output` takes a write before the previous one resolved (they land in the order called). */
  readonly overlapsWrites?: boolean
}

/** What a part file needs of the subtask writing it. */
export interface PartFileHost {
  /** Names the part (`part.name`, `part.inProgressName`) and opens it on the store. */
  createFile(part: PartFile): Promise<OpenedPart>
  /** Bytes of the part are held in memory. */
  buffered(bytes: number): void
  /** Held bytes are handed to the file: written behind the input, until `written`. */
  writing(bytes: number): void
  /** Bytes handed to the file have been written (or dropped); `released` follows for them. */
  written(bytes: number): void
  /** Held bytes have been written to the file (or dropped). */
  released(bytes: number): void
  /** The part's I/O failed: the subtask must fail, or a record would be lost. */
  fail(error: unknown): void
  /** Held bytes of one part that trigger a write. */
  readonly writeBufferBytes: number
  /** Where the parts' chunks are encoded into, and go back to once written. */
  readonly chunkPool: ChunkPool
}

/**
 * One part file of a bucket. `append` is synchronous and allocation-light (records are batched into
 * chunks of `writeBufferBytes`, encoded when a chunk is handed to the file: {@link PartBuffer}); the file is created, written, synced and closed in the background, in
 * order, on one promise chain per part. The file is created lazily with the first chunk, and its name is
 * chosen then, so the subtask's counter is only consumed once the restore scan has set it. A file whose
 * writes may overlap (a local file, written at offsets) is written outside the chain once open: each
 * chunk as it is handed over, two writes in flight at most, and the chain's later steps wait for them.
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
  /** Encoded bytes held (row encoders). */
  private readonly bytes: PartBuffer
  /** Records held (block encoders). */
  private records: unknown[] = []
  /** What is held counts for: bytes, strings' lengths until encoded (see {@link PartBuffer}), or the block encoder's sizes. */
  private chunkBytes = 0
  /** Encoded chunks handed over and not yet written, and their bytes. */
  private waiting: Uint8Array[] = []
  private waitingBytes = 0
  /** A write of the waiting chunks is queued and has not started. */
  private draining = false
  private io: Promise<void> = Promise.resolve()
  /** Chunks are written as they are handed over, outside `io` (see `startWrites`). */
  private direct = false
  private writesInFlight = 0
  /** Settles once every direct write started so far is done; never rejects. */
  private directWrites: Promise<void> = Promise.resolve()
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
    this.bytes = new PartBuffer(host.chunkPool)
    if (header !== undefined && header.length > 0) this.append(header, creationTime)
  }

  /** Adds one record's bytes. */
  append(data: string | Uint8Array, now: number): void {
    const bytes = this.bytes.append(data)
    this.chunkBytes += bytes
    this.size += bytes
    this.lastUpdateTime = now
    this.host.buffered(bytes)
    if (this.chunkBytes >= this.host.writeBufferBytes) this.flush()
  }

  /** Adds one record of a block encoder, which `check` sized at `bytes`. */
  appendRecord(value: unknown, bytes: number, now: number): void {
    this.records.push(value)
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
    this.chunkBytes = 0
    if (this.records.length > 0) {
      const records = this.records
      this.records = []
      this.host.writing(bytes)
      this.enqueue(async () => {
        const { blocks } = await this.open()
        await blocks!.writeBlock(records, bytes)
      }, bytes)
      return
    }
    const { chunk, correction } = this.bytes.take()
    // strings were counted by their length until encoded: now their bytes are known
    this.size += correction
    this.host.buffered(correction)
    this.waiting.push(chunk)
    this.waitingBytes += bytes + correction
    this.host.writing(bytes + correction)
    if (this.direct) return this.startWrites(false)
    if (this.draining) return
    // One write takes every chunk handed over until it starts: a subtask's turn hands over several
    // chunks, and a write per chunk (a round trip through the thread pool each) would let them pile up.
    this.draining = true
    this.io = this.io.then(() => {
      this.draining = false
      if (this.direct) return this.startWrites(false)
      const chunks = this.waiting
      const written = this.waitingBytes
      this.waiting = []
      this.waitingBytes = 0
      return this.run(async () => {
        const { output, releasesChunks, overlapsWrites } = await this.open()
        const write = this.writeChunks(output, chunks, releasesChunks === true)
        if (overlapsWrites === true && this.state === 'in-progress') {
          // from now on chunks go to the file as they come (startWrites): this write claimed its place
          this.direct = true
          this.inFlight(write)
          this.startWrites(false)
        }
        await write
      }, written)
    })
  }

  /**
   * Direct writes (an output that overlaps writes, once the part's file is open): the waiting chunks
   * go out now, in one write, unless two writes of the part are in flight already (then the first to
   * finish starts the next). So the thread pool writes while the subtask encodes the next chunk, and
   * takes up the next write the moment one is done, not a turn of the event loop later. `all` starts
   * them whatever is in flight (the part is closing: nothing comes after them).
   */
  private startWrites(all: boolean): void {
    if (this.waiting.length === 0 || this.error !== undefined || this.state === 'aborted') return
    if (!all && this.writesInFlight >= MAX_DIRECT_WRITES) return
    const chunks = this.waiting
    const written = this.waitingBytes
    this.waiting = []
    this.waitingBytes = 0
    const opened = this.opened!
    this.inFlight(this.run(() => this.writeChunks(opened.output, chunks, opened.releasesChunks === true), written))
  }

  /** Counts a direct write until it is done (the later steps of the part wait for it); then the next may start. */
  private inFlight(write: Promise<void>): void {
    this.writesInFlight++
    const done = write.then(
      () => {
        this.writesInFlight--
        this.startWrites(false)
      },
      () => {
        this.writesInFlight--
      },
    )
    this.directWrites = Promise.all([this.directWrites, done]).then(() => undefined)
  }

  /** Writes `chunks` in order as one write, then gives their buffers back to the pool when it may. */
  private async writeChunks(output: PartOutput, chunks: Uint8Array[], release: boolean): Promise<void> {
    if (chunks.length === 1) await output.write(chunks[0]!)
    else if (output.writev !== undefined) await output.writev(chunks)
    else await output.write(Buffer.concat(chunks))
    if (release) for (const chunk of chunks) this.host.chunkPool.release(chunk)
  }

  /** Rolls the part: writes what is held, ends the encoding, closes it for commit; then it is 'pending'. */
  close(): void {
    if (this.state !== 'in-progress') return
    this.state = 'closing'
    this.flush()
    if (this.direct) this.startWrites(true)
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
    const dropped = this.chunkBytes + this.waitingBytes
    this.host.written(this.waitingBytes)
    this.bytes.drop()
    this.records = []
    this.chunkBytes = 0
    this.waiting = []
    this.waitingBytes = 0
    this.host.released(dropped)
    this.io = this.afterWrites().then(async () => {
      if (this.opened === undefined || this.fileClosed) return
      this.fileClosed = true
      await this.opened.stream.dispose().catch(() => undefined)
    })
  }

  /** Resolves once the part's I/O so far is done; never rejects. */
  settled(): Promise<void> {
    return this.afterWrites()
  }

  /** Resolves once the part is 'pending'; rejects with the error that stopped its I/O. */
  async closed(): Promise<void> {
    await this.afterWrites()
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
    this.io = this.afterWrites().then(() => this.run(step, bytes))
  }

  /** The part's I/O so far, its direct writes included. */
  private afterWrites(): Promise<void> {
    return this.io.then(() => this.directWrites)
  }

  /** Runs one step of the part's I/O (skipped after a failure or an abort); `bytes` it writes are released after it. */
  private async run(step: () => Promise<void>, bytes: number): Promise<void> {
    try {
      if (this.error === undefined && this.state !== 'aborted') await step()
    } catch (error) {
      this.error ??= error
      this.host.fail(error)
    } finally {
      if (bytes > 0) {
        this.host.written(bytes)
        this.host.released(bytes)
      }
    }
  }
}

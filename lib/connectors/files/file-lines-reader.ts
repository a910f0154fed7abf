import { ConnectorError, messageOf } from '../../errors.js'
import type { Logger } from '../../logging.js'
import { Availability } from '../../runtime/availability.js'
import type { InputStatus, SourceOutput, SourceReader } from '../../runtime/source.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import type { ListedFile } from './file-listing.js'
import type { FileSplit } from './file-split.js'
import { LineCursor } from './line-cursor.js'
import type { LineEncoding } from './options.js'

/** How a {@link FileLinesReader} finds its files and reads them. */
export interface FileLinesReaderSettings {
  /** Lists the files this subtask reads, with their current size and inode. */
  readonly list: () => Promise<ListedFile[]>
  /** Keep scanning for new files and appended lines (true), or read what the first scan found and end. */
  readonly continuous: boolean
  readonly intervalMs: number
  readonly encoding: LineEncoding
  readonly bufferSize: number
  readonly processingTime: ProcessingTimeService
  readonly logger: Logger
  /** Names the source in errors, e.g. "monitorDirectory /data/in". */
  readonly description: string
}

/** What the reader knows of one file between visits. */
interface TrackedFile {
  /** Byte offset of the next line not yet emitted. */
  offset: number
  /** How far the file was read, a trailing partial line included: it is read again only once it grows. */
  readTo: number
  /** Unknown for a file known only from a checkpoint, until the first scan. */
  ino: number | undefined
}

/**
 * Without a cap, a file that grows as fast as it is read would keep the reader forever and the other
 * files would starve; after this many buffer fills it goes to the back of the queue.
 */
const FILLS_PER_VISIT = 16

/**
 * Reads the lines of a set of files, one file at a time through one bounded buffer, with demand: the
 * next bytes are read only when the buffer holds no complete line and `pollNext` asked for one.
 *
 * Continuous mode scans every `intervalMs` once everything found was read (never while downstream has
 * no credit) and reads new files and the lines appended to known ones. A line is emitted only once its
 * newline is there: a writer that flushes half a line and pauses must not have it split in two records,
 * so an unterminated last line waits for its newline however long that takes. In a bounded read the
 * last line of a file is emitted with or without newline. A file that shrinks below the position
 * (truncated) or was replaced (new inode) is read again from its start, with a warning.
 *
 * Its state is one {@link FileSplit} per known file — fully read ones included, so that a restore does
 * not read them again — and a restore resumes every file at exactly the next line.
 *
 * @example
 * const reader = new FileLinesReader({ list: () => listDirectory(dir, () => true), continuous: true,
 *   intervalMs: 1000, encoding: 'utf8', bufferSize: 65_536, processingTime: systemProcessingTime,
 *   logger: createLogger(), description: `monitorDirectory ${dir}` }, [])
 */
export class FileLinesReader implements SourceReader<string, FileSplit> {
  private readonly files = new Map<string, TrackedFile>()
  private readonly queue: string[] = []
  private readonly queued = new Set<string>()
  private cursor: LineCursor | undefined
  private cursorPath = ''
  private fills = 0
  private scanned = false
  private nextScanAt = 0
  private ended = false
  private closed = false
  private failure: ConnectorError | undefined
  private running: Promise<void> | undefined
  private wake: (() => void) | undefined
  private readonly available = new Availability()
  /** How many directory scans (or file checks) were completed. */
  scans = 0

  constructor(
    private readonly settings: FileLinesReaderSettings,
    restored: readonly FileSplit[],
  ) {
    for (const split of restored)
      this.files.set(split.path, { offset: split.offset, readTo: split.offset, ino: undefined })
  }

  /** Bytes read from the current file and not yet emitted: what the reader holds. */
  get bufferedBytes(): number {
    return this.cursor?.bufferedBytes ?? 0
  }

  /** Size of the read buffer (the configured bufferSize unless a longer line made it grow). */
  get bufferCapacity(): number {
    return this.cursor?.capacity ?? this.settings.bufferSize
  }

  start(): void {
    this.pump()
  }

  pollNext(output: SourceOutput<string>): InputStatus {
    const cursor = this.cursor
    if (cursor?.hasLine()) {
      output.collect(cursor.nextLine()!)
      if (cursor.hasLine()) return 'more'
    } else {
      // Lines read before a failure were handed out first; the failure surfaces once they are gone.
      if (this.failure !== undefined) throw this.failure
      if (this.ended) return 'end'
    }
    this.pump()
    return 'nothing-available'
  }

  isAvailable(): Promise<void> {
    return this.available.promise
  }

  snapshotState(): FileSplit[] {
    const splits: FileSplit[] = []
    for (const [path, file] of this.files) {
      // The open file's tracked offset lags behind; its cursor knows the next line.
      const offset = this.cursor !== undefined && path === this.cursorPath ? this.cursor.offset : file.offset
      splits.push({ path, offset })
    }
    return splits
  }

  async close(): Promise<void> {
    this.closed = true
    this.wake?.()
    await this.running
    await this.cursor?.close()
    this.cursor = undefined
  }

  /** Starts reading towards the next line unless that is already under way. */
  private pump(): void {
    if (this.running !== undefined || this.closed || this.ended || this.failure !== undefined) return
    this.running = this.readUntilLine()
      .catch((error: unknown) => {
        this.failure =
          error instanceof ConnectorError
            ? error
            : new ConnectorError('ERR_FILE_READ', `${this.settings.description}: ${messageOf(error)}`, {
                cause: error,
                retriable: true,
              })
      })
      .finally(() => {
        this.running = undefined
        this.available.signal()
      })
  }

  /** Reads, opens the next file or scans until a line is buffered, the read ended, or the reader closed. */
  private async readUntilLine(): Promise<void> {
    while (!this.closed) {
      const cursor = this.cursor
      if (cursor !== undefined) {
        if (cursor.hasLine()) return
        if (this.fills >= FILLS_PER_VISIT && this.queue.length > 0) {
          await this.leaveFile(cursor, true)
          continue
        }
        this.fills++
        if (await cursor.fill()) continue
        if (cursor.hasLine()) return // a last line without newline, in a bounded read
        await this.leaveFile(cursor, false)
        continue
      }
      const path = this.queue.shift()
      if (path !== undefined) {
        this.queued.delete(path)
        await this.openFile(path)
        continue
      }
      if (this.scanned && !this.settings.continuous) {
        this.ended = true
        return
      }
      await this.sleepUntil(this.nextScanAt)
      if (this.closed) return
      this.nextScanAt = this.settings.processingTime.now() + this.settings.intervalMs
      await this.scan()
      this.scanned = true
      this.scans++
    }
  }

  private async openFile(path: string): Promise<void> {
    const file = this.files.get(path)
    if (file === undefined) return
    try {
      const { bufferSize, encoding, continuous } = this.settings
      this.cursor = await LineCursor.open(path, file.offset, { bufferSize, encoding, emitPartialAtEnd: !continuous })
      this.cursorPath = path
      this.fills = 0
    } catch (error) {
      // Deleted since the scan: nothing left to read, and a file created again under its name is new.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      this.files.delete(path)
    }
  }

  private async leaveFile(cursor: LineCursor, requeue: boolean): Promise<void> {
    const file = this.files.get(this.cursorPath)
    if (file !== undefined) {
      file.offset = cursor.offset
      file.readTo = requeue ? cursor.offset : cursor.offset + cursor.bufferedBytes
      if (requeue) this.enqueue(this.cursorPath)
    }
    this.cursor = undefined
    await cursor.close()
  }

  private async scan(): Promise<void> {
    const listed = await this.settings.list()
    const seen = new Set<string>()
    for (const found of listed) {
      seen.add(found.path)
      let file = this.files.get(found.path)
      if (file === undefined) {
        file = { offset: 0, readTo: 0, ino: found.ino }
        this.files.set(found.path, file)
      } else if (file.ino !== undefined && file.ino !== found.ino) {
        this.settings.logger.warn('file was replaced; reading it again from the start', {
          path: found.path,
          offset: file.offset,
        })
        file.offset = file.readTo = 0
      } else if (found.size < file.offset) {
        this.settings.logger.warn('file shrank below the read position (truncated?); reading it again from the start', {
          path: found.path,
          offset: file.offset,
          size: found.size,
        })
        file.offset = file.readTo = 0
      } else if (found.size < file.readTo) {
        // Only the unterminated last line changed: read it again, nothing was emitted from it.
        file.readTo = file.offset
      }
      file.ino = found.ino
      if (found.size > file.readTo) this.enqueue(found.path)
    }
    // Forgetting deleted files keeps the checkpoint from growing with every rotated log.
    for (const path of this.files.keys()) if (!seen.has(path)) this.files.delete(path)
  }

  private enqueue(path: string): void {
    if (this.queued.has(path)) return
    this.queued.add(path)
    this.queue.push(path)
  }

  private sleepUntil(time: number): Promise<void> {
    if (time <= this.settings.processingTime.now()) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const cancel = this.settings.processingTime.scheduleAt(time, () => this.wake?.())
      this.wake = () => {
        this.wake = undefined
        cancel()
        resolve()
      }
    })
  }
}

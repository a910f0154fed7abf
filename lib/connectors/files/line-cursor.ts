import { open, type FileHandle } from 'node:fs/promises'
import type { LineEncoding } from './options.js'

const NEWLINE = 0x0a
const CARRIAGE_RETURN = 0x0d

/**
 * Reads the lines of one open file from a byte offset through one bounded buffer. Reading is async
 * (`fill`), taking lines is synchronous (`nextLine`), so a reader can hand out lines in `pollNext` and
 * read ahead only when its buffer holds no complete line — demand decides how much of the file is read.
 *
 * `offset` is always the byte position of the next line not yet taken, which is what a checkpoint stores:
 * a restore opens the file at that offset and continues with exactly the next line.
 *
 * @example
 * const cursor = await LineCursor.open('app.log', 0, { bufferSize: 65_536, encoding: 'utf8', emitPartialAtEnd: true })
 * while (cursor.hasLine() || await cursor.fill()) { const line = cursor.nextLine(); if (line !== undefined) use(line) }
 * // one more round after fill() returned false hands out a last line that had no newline
 * await cursor.close()
 */
export class LineCursor {
  private buffer: Buffer
  /** `buffer` cut at `end`: searching it cannot find stale bytes of an earlier read beyond `end`. */
  private view: Buffer
  private start = 0
  private end = 0
  /** Index of the newline that ends the next line, -1 if none is known yet. */
  private newline = -1
  /** Bytes before this index were searched and hold no newline: a long line is not searched twice. */
  private searchedTo = 0
  private atEnd = false
  private skipBom: boolean
  private closing: Promise<void> | undefined

  private constructor(
    private readonly handle: FileHandle,
    /** Byte position in the file of `buffer[start]`. */
    private position: number,
    private readonly encoding: LineEncoding,
    private readonly emitPartialAtEnd: boolean,
    bufferSize: number,
  ) {
    this.buffer = Buffer.allocUnsafe(bufferSize)
    this.view = this.buffer.subarray(0, 0)
    this.skipBom = position === 0 && (encoding === 'utf8' || encoding === 'utf-8')
  }

  /**
   * Opens `path` for reading at byte `offset`.
   *
   * @example
   * const cursor = await LineCursor.open('/var/log/app.log', 1024, { bufferSize: 65_536, encoding: 'utf8', emitPartialAtEnd: false })
   */
  static async open(
    path: string,
    offset: number,
    options: { bufferSize: number; encoding: LineEncoding; emitPartialAtEnd: boolean },
  ): Promise<LineCursor> {
    const handle = await open(path, 'r')
    return new LineCursor(handle, offset, options.encoding, options.emitPartialAtEnd, options.bufferSize)
  }

  /** Byte offset of the next line not yet taken. */
  get offset(): number {
    return this.position
  }

  /** Bytes read from the file and not yet handed out (the partial line included). */
  get bufferedBytes(): number {
    return this.end - this.start
  }

  /** Size of the buffer: the most this cursor holds unless one line is longer. */
  get capacity(): number {
    return this.buffer.length
  }

  /** Whether the last `fill` found the end of the file. */
  get reachedEnd(): boolean {
    return this.atEnd
  }

  /** Whether `nextLine` would hand out a line now. */
  hasLine(): boolean {
    if (this.newline >= 0) return true
    if (this.start === this.end) return false
    const found = this.view.indexOf(NEWLINE, Math.max(this.start, this.searchedTo))
    if (found >= 0) {
      this.newline = found
      return true
    }
    this.searchedTo = this.end
    return this.atEnd && this.emitPartialAtEnd
  }

  /** The next complete line without its '\n' or '\r\n'; at the end, a last line without newline. */
  nextLine(): string | undefined {
    if (!this.hasLine()) return undefined
    const newline = this.newline
    if (newline < 0) {
      // The end of the file, and the caller wants a last line that lacks its newline.
      let stop = this.end
      if (this.buffer[stop - 1] === CARRIAGE_RETURN) stop--
      const line = this.buffer.toString(this.encoding, this.start, stop)
      this.position += this.end - this.start
      this.start = this.end
      return line
    }
    const stop = newline > this.start && this.buffer[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline
    const line = this.buffer.toString(this.encoding, this.start, stop)
    this.position += newline + 1 - this.start
    this.start = newline + 1
    this.newline = -1
    return line
  }

  /**
   * Reads the next bytes of the file into the buffer; false when the file has no more (for now — a
   * growing file may have more at the next call).
   */
  async fill(): Promise<boolean> {
    this.compact()
    if (this.end === this.buffer.length) this.grow()
    const { bytesRead } = await this.handle.read(
      this.buffer,
      this.end,
      this.buffer.length - this.end,
      this.position + this.end - this.start,
    )
    if (bytesRead === 0) {
      this.atEnd = true
      return false
    }
    this.atEnd = false
    this.end += bytesRead
    this.view = this.buffer.subarray(0, this.end)
    if (this.skipBom) {
      // Only the file's first bytes can be a byte-order mark; the first read holds them.
      this.skipBom = false
      if (this.end >= 3 && this.buffer[0] === 0xef && this.buffer[1] === 0xbb && this.buffer[2] === 0xbf) {
        this.start = 3
        this.position += 3
      }
    }
    return true
  }

  /** Closes the file; a second call waits for the first. */
  close(): Promise<void> {
    this.closing ??= this.handle.close()
    return this.closing
  }

  /** Moves the unread bytes to the front, so the free space is one piece at the end. */
  private compact(): void {
    if (this.start === 0) return
    this.buffer.copy(this.buffer, 0, this.start, this.end)
    this.end -= this.start
    this.searchedTo = Math.max(0, this.searchedTo - this.start)
    if (this.newline >= 0) this.newline -= this.start
    this.start = 0
    this.view = this.buffer.subarray(0, this.end)
  }

  /** A line longer than the buffer: it must be held whole to be emitted, so the buffer doubles. */
  private grow(): void {
    const larger = Buffer.allocUnsafe(this.buffer.length * 2)
    this.buffer.copy(larger, 0, 0, this.end)
    this.buffer = larger
    this.view = larger.subarray(0, this.end)
  }
}

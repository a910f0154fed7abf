/**
 * Cuts decoded text into lines at a delimiter of any length, holding at most `maxLines` cut lines.
 * Text beyond that stays uncut (at most what arrived in one chunk), so a caller can promise a bound
 * on the lines it holds: it stops its input when `full`, and cuts more with `cut()` after taking some.
 * A delimiter split across two chunks is found, because the search restarts just before the old end.
 *
 * @example
 * const buffer = new DelimitedLineBuffer('||', 100, 1 << 20)
 * buffer.append('a||b|'); buffer.append('|c')
 * buffer.take() // 'a'
 * buffer.take() // 'b'
 * buffer.take() // undefined: 'c' waits for its delimiter
 */
export class DelimitedLineBuffer {
  private lines: string[] = []
  private head = 0
  private text = ''
  private textStart = 0
  /** The text before this index holds no delimiter start. */
  private searchFrom = 0

  constructor(
    readonly delimiter: string,
    readonly maxLines: number,
    readonly maxLineLength: number,
  ) {}

  /** Cut lines waiting to be taken. */
  get size(): number {
    return this.lines.length - this.head
  }

  get full(): boolean {
    return this.size >= this.maxLines
  }

  /** Characters received and not yet cut into lines (a partial line, or lines beyond `maxLines`). */
  get uncutLength(): number {
    return this.text.length - this.textStart
  }

  /** Adds text and cuts what fits; false when a line outgrew `maxLineLength`. */
  append(text: string): boolean {
    this.text = this.textStart === 0 ? this.text + text : this.text.slice(this.textStart) + text
    this.searchFrom -= this.textStart
    this.textStart = 0
    return this.cut()
  }

  /**
   * Ends the partial line, if any, as if its delimiter had arrived: the input it came from is over,
   * and what follows (a new connection) must not be glued to it.
   */
  terminate(): void {
    // Uncut text that ends with the delimiter holds complete lines only (left uncut by a full buffer).
    if (this.uncutLength > 0 && !this.text.endsWith(this.delimiter)) this.append(this.delimiter)
  }

  /** Cuts lines from the uncut text until `maxLines` are held; false when a line outgrew `maxLineLength`. */
  cut(): boolean {
    const { delimiter } = this
    while (this.size < this.maxLines) {
      const at = this.text.indexOf(delimiter, this.searchFrom)
      if (at < 0) {
        this.searchFrom = Math.max(this.textStart, this.text.length - delimiter.length + 1)
        if (this.uncutLength > this.maxLineLength) return false
        break
      }
      this.lines.push(this.text.slice(this.textStart, at))
      this.textStart = this.searchFrom = at + delimiter.length
    }
    return true
  }

  /** The oldest cut line, or undefined. */
  take(): string | undefined {
    if (this.head === this.lines.length) return undefined
    const line = this.lines[this.head]!
    this.lines[this.head++] = undefined as unknown as string
    if (this.head === this.lines.length) {
      this.lines.length = 0
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.lines.length) {
      // Drop the taken half so a buffer that never runs dry does not grow without end.
      this.lines = this.lines.slice(this.head)
      this.head = 0
    }
    return line
  }
}

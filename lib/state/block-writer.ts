import { ColumnKind, Tag, align8 } from './binary-layout.js'

/** Rows of a block start with room for this many; columns double as they fill. */
const FIRST_ROWS = 1024

/**
 * Writes blocks of rows (see `binary-layout.ts`) one after another into one growing buffer: a block's
 * rows are gathered column by column in reused scratch arrays, then copied once into the buffer. The
 * buffer is a `SharedArrayBuffer`, so the storage can hash it on another thread while it is written to
 * a file, without copying it or taking it from the snapshot. It may be the buffer of an earlier
 * snapshot (`spare`): memory written before costs no page faults (fresh memory costs about 60 ms of
 * CPU per 16 MB on a loaded machine, more than encoding into it).
 *
 * @example
 * const w = new BlockWriter(1 << 20)
 * w.begin(BlockKind.STATE, 'count', 2); w.row2('a', 1); w.row2('b', 2); w.end()
 * w.bytes() // the block, 8-byte aligned
 */
export class BlockWriter {
  private buffer: Buffer
  /** Bytes written so far; always a multiple of 8. */
  length = 0
  private readonly columns = [new ColumnScratch(), new ColumnScratch(), new ColumnScratch()]
  private rows = 0
  private capacity = FIRST_ROWS
  private kind = 0
  private name = ''
  private width = 2

  /**
   * `expectedBytes`: the size the buffer needs at least (it grows by doubling when the state is
   * larger); `spare` is used when it is that large.
   */
  constructor(expectedBytes: number, spare?: SharedArrayBuffer) {
    const bytes = align8(Math.max(64, expectedBytes))
    // an eighth more than needed, so a state that grows a little still fits the spare next time
    this.buffer = Buffer.from(
      spare !== undefined && spare.byteLength >= bytes ? spare : new SharedArrayBuffer(align8(bytes + bytes / 8)),
    )
  }

  /** Starts a block of `width` columns (2 or 3). */
  begin(kind: number, name: string, width: 2 | 3): void {
    this.kind = kind
    this.name = name
    this.width = width
    this.rows = 0
    for (const column of this.columns) column.reset()
  }

  row2(a: unknown, b: unknown): void {
    const row = this.rows
    if (row === this.capacity) this.grow()
    this.columns[0]!.add(row, a)
    this.columns[1]!.add(row, b)
    this.rows = row + 1
  }

  /** `row2` for two numbers (the common keyed state of number keys and values): no type checks. */
  row2Numbers(a: number, b: number): void {
    const row = this.rows
    if (row === this.capacity) this.grow()
    this.columns[0]!.addNumber(row, a)
    this.columns[1]!.addNumber(row, b)
    this.rows = row + 1
  }

  row3(a: unknown, b: unknown, c: unknown): void {
    const row = this.rows
    if (row === this.capacity) this.grow()
    this.columns[0]!.add(row, a)
    this.columns[1]!.add(row, b)
    this.columns[2]!.add(row, c)
    this.rows = row + 1
  }

  /** Writes the block begun last; a block without rows is left out. True when it was written. */
  end(): boolean {
    const rows = this.rows
    if (rows === 0) return false
    const nameBytes = Buffer.byteLength(this.name)
    const header = align8(12 + nameBytes)
    let size = header
    for (let c = 0; c < this.width; c++) size += this.columns[c]!.size(rows)
    this.ensure(size)
    const out = this.buffer
    let at = this.length
    out.fill(0, at, at + header)
    out[at] = this.kind
    out[at + 1] = this.width
    out.writeUInt32LE(rows, at + 4)
    out.writeUInt32LE(nameBytes, at + 8)
    out.write(this.name, at + 12, nameBytes)
    at += header
    for (let c = 0; c < this.width; c++) at = this.columns[c]!.copyTo(out, at, rows)
    this.length = at
    return true
  }

  /** Every block written, as a view of the shared buffer. */
  bytes(): Uint8Array {
    return new Uint8Array(this.buffer.buffer, 0, this.length)
  }

  /** The whole shared buffer, to hand to a later writer as its spare once nothing reads these blocks. */
  sharedBuffer(): SharedArrayBuffer {
    return this.buffer.buffer as SharedArrayBuffer
  }

  private grow(): void {
    this.capacity *= 2
    for (const column of this.columns) column.grow(this.capacity)
  }

  private ensure(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return
    const larger = Buffer.from(new SharedArrayBuffer(align8(Math.max(this.buffer.length * 2, this.length + bytes))))
    larger.set(this.buffer.subarray(0, this.length))
    this.buffer = larger
  }
}

/**
 * One column of the block being gathered: a number per row, and a tag and heap text for the other rows.
 * Tags are written only once the column is mixed (its first other row tags the rows before it), so a
 * column of numbers costs one float64 store per row. A column of int32 numbers only (counts, small
 * keys) is stored as int32: half the bytes to write, hash and store.
 */
class ColumnScratch {
  private numbers = new Float64Array(FIRST_ROWS)
  private tags = new Uint8Array(FIRST_ROWS)
  private heap = Buffer.allocUnsafe(4096)
  private heapLength = 0
  private mixed = false
  /** Every number row so far is an int32 (and not −0). */
  private ints = true

  add(row: number, value: unknown): void {
    if (typeof value === 'number') this.addNumber(row, value)
    else this.addOther(row, value)
  }

  addNumber(row: number, value: number): void {
    this.numbers[row] = value
    if (this.ints && ((value | 0) !== value || (value === 0 && 1 / value < 0))) this.ints = false
    if (this.mixed) this.tags[row] = Tag.NUMBER
  }

  reset(): void {
    this.heapLength = 0
    this.mixed = false
    this.ints = true
  }

  grow(capacity: number): void {
    const numbers = new Float64Array(capacity)
    numbers.set(this.numbers)
    this.numbers = numbers
    const tags = new Uint8Array(capacity)
    tags.set(this.tags)
    this.tags = tags
  }

  /** Bytes the column takes in the block. */
  size(rows: number): number {
    if (this.mixed) return 8 + align8(rows) + rows * 8 + align8(this.heapLength)
    return 8 + (this.ints ? align8(rows * 4) : rows * 8)
  }

  /** Copies the column into `out` at `at` (a multiple of 8); returns where the next one starts. */
  copyTo(out: Buffer, at: number, rows: number): number {
    out.fill(0, at, at + 8)
    out[at] = this.mixed ? ColumnKind.MIXED : this.ints ? ColumnKind.INT32 : ColumnKind.NUMBERS
    out.writeUInt32LE(this.mixed ? this.heapLength : 0, at + 4)
    at += 8
    if (!this.mixed && this.ints) {
      new Int32Array(out.buffer, out.byteOffset + at, rows).set(this.numbers.subarray(0, rows))
      out.fill(0, at + rows * 4, at + align8(rows * 4))
      return at + align8(rows * 4)
    }
    if (this.mixed) {
      out.set(this.tags.subarray(0, rows), at)
      out.fill(0, at + rows, at + align8(rows))
      at += align8(rows)
    }
    new Float64Array(out.buffer, out.byteOffset + at, rows).set(this.numbers.subarray(0, rows))
    at += rows * 8
    if (this.mixed) {
      out.set(this.heap.subarray(0, this.heapLength), at)
      out.fill(0, at + this.heapLength, at + align8(this.heapLength))
      at += align8(this.heapLength)
    }
    return at
  }

  private addOther(row: number, value: unknown): void {
    if (!this.mixed) {
      this.tags.fill(Tag.NUMBER, 0, row)
      this.mixed = true
    }
    this.numbers[row] = 0
    switch (typeof value) {
      case 'string':
        this.tags[row] = Tag.STRING
        this.addText(value)
        return
      case 'boolean':
        this.tags[row] = value ? Tag.TRUE : Tag.FALSE
        return
      case 'undefined':
        this.tags[row] = Tag.NULL
        return
      default:
        if (value === null) this.tags[row] = Tag.NULL
        else {
          this.tags[row] = Tag.JSON
          this.addText(JSON.stringify(value))
        }
    }
  }

  /** A u32 byte length and the UTF-8 of `text`, on the heap. */
  private addText(text: string): void {
    const room = this.heapLength + 4 + text.length * 3
    if (room > this.heap.length) {
      const larger = Buffer.allocUnsafe(Math.max(this.heap.length * 2, room))
      larger.set(this.heap.subarray(0, this.heapLength))
      this.heap = larger
    }
    const written = this.heap.write(text, this.heapLength + 4)
    this.heap.writeUInt32LE(written, this.heapLength)
    this.heapLength += 4 + written
  }
}

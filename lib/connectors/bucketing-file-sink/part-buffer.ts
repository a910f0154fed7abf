import type { ChunkPool } from './chunk-pool.js'

/**
 * The encoded records a part holds before they are written, gathered into one chunk per write. Strings
 * are joined and encoded (UTF-8) once per chunk, when the chunk is taken: a call into the encoder per
 * record, or even one to measure each string's UTF-8 length, costs more than the rest of the sink's work
 * on a record. So a string is counted by its length (UTF-16 code units) until its chunk is taken, and
 * `take` says by how much the chunk's bytes differ from that count (0 for ASCII; more for other text,
 * at most 2 bytes per code unit). The records' strings live only until their chunk is taken; the bytes
 * go into a buffer of the subtask's {@link ChunkPool}.
 *
 * @example
 * const held = new PartBuffer(new ChunkPool(128 * 1024, 16))
 * held.append('a\n'); held.append(Buffer.from('é\n'))
 * const { chunk, correction } = held.take() // 'a\né\n', correction 0 (the Buffer was counted exactly)
 */
export class PartBuffer {
  constructor(private readonly pool: ChunkPool) {}

  private strings: string[] = []
  /** Chunks encoded already: binary records, and the strings before them. */
  private encoded: Uint8Array[] = []
  /** Encoded bytes minus counted code units of the strings encoded so far. */
  private correction = 0

  /** Appends one record and returns what it counts for: its bytes, or a string's length. */
  append(data: string | Uint8Array): number {
    if (typeof data === 'string') {
      this.strings.push(data)
      return data.length
    }
    if (this.strings.length > 0) this.encoded.push(this.joined())
    this.encoded.push(data)
    return data.byteLength
  }

  /** The bytes held, as one chunk, and their byte count minus what `append` counted; nothing is held afterwards. */
  take(): { chunk: Uint8Array; correction: number } {
    let chunk: Uint8Array
    if (this.encoded.length === 0) chunk = this.joined()
    else {
      if (this.strings.length > 0) this.encoded.push(this.joined())
      chunk = this.encoded.length === 1 ? this.encoded[0]! : Buffer.concat(this.encoded)
      this.encoded = []
    }
    const correction = this.correction
    this.correction = 0
    return { chunk, correction }
  }

  /** Forgets what is held. */
  drop(): void {
    this.strings = []
    this.encoded = []
    this.correction = 0
  }

  private joined(): Buffer {
    const strings = this.strings
    this.strings = []
    const text = strings.length === 1 ? strings[0]! : strings.join('')
    const bytes = this.pool.acquire(Buffer.byteLength(text))
    bytes.write(text)
    this.correction += bytes.byteLength - text.length
    return bytes
  }
}

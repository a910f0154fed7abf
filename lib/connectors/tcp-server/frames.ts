/**
 * Cuts one connection's bytes into frames. A decoder is created per connection and keeps what it has
 * of an unfinished frame; `push` calls `emit` for every complete frame in order, and throws
 * {@link FrameTooLargeError} as soon as a frame is known to exceed its limit (before buffering it).
 */
export interface FrameDecoder {
  push(chunk: Buffer, emit: (frame: Buffer) => void): void
  /** Bytes held of an unfinished frame. */
  readonly pendingBytes: number
}

/** A frame over the decoder's limit: the connection is closed and the reason dead-lettered. */
export class FrameTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`frame of ${size} bytes or more exceeds maxFrameBytes (${limit})`)
  }
}

/**
 * Frames ended by one delimiter byte (default `\n`; a `\r` before it is dropped), Netty's
 * LineBasedFrameDecoder. A last frame without delimiter is not emitted.
 *
 * @example
 * const lines = new DelimitedFrames(0x0a, 1024)
 * lines.push(Buffer.from('a\nb'), (f) => console.log(f.toString())) // 'a'
 */
export class DelimitedFrames implements FrameDecoder {
  private parts: Buffer[] = []
  private held = 0

  constructor(
    private readonly delimiter: number,
    private readonly maxFrameBytes: number,
  ) {}

  get pendingBytes(): number {
    return this.held
  }

  push(chunk: Buffer, emit: (frame: Buffer) => void): void {
    let start = 0
    for (let end = chunk.indexOf(this.delimiter, start); end !== -1; end = chunk.indexOf(this.delimiter, start)) {
      let frame = chunk.subarray(start, end)
      if (this.held > 0) {
        this.parts.push(frame)
        frame = Buffer.concat(this.parts, this.held + frame.length)
        this.parts = []
        this.held = 0
      }
      if (frame.length > this.maxFrameBytes) throw new FrameTooLargeError(frame.length, this.maxFrameBytes)
      const last = frame.length - 1
      emit(last >= 0 && frame[last] === 0x0d && this.delimiter === 0x0a ? frame.subarray(0, last) : frame)
      start = end + 1
    }
    if (start === chunk.length) return
    const rest = chunk.length - start
    if (this.held + rest > this.maxFrameBytes) throw new FrameTooLargeError(this.held + rest, this.maxFrameBytes)
    this.parts.push(chunk.subarray(start))
    this.held += rest
  }
}

/**
 * Frames each preceded by its length as a 4-byte big-endian unsigned integer, Netty's
 * LengthFieldBasedFrameDecoder(0, 4, 0, 4).
 *
 * @example
 * const frames = new LengthPrefixedFrames(1 << 20)
 * frames.push(Buffer.from([0, 0, 0, 2, 104, 105]), (f) => console.log(f.toString())) // 'hi'
 */
export class LengthPrefixedFrames implements FrameDecoder {
  private pending: Buffer = Buffer.alloc(0)

  constructor(private readonly maxFrameBytes: number) {}

  get pendingBytes(): number {
    return this.pending.length
  }

  push(chunk: Buffer, emit: (frame: Buffer) => void): void {
    let data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    let at = 0
    while (data.length - at >= 4) {
      const size = data.readUInt32BE(at)
      if (size > this.maxFrameBytes) throw new FrameTooLargeError(size, this.maxFrameBytes)
      if (data.length - at - 4 < size) break
      emit(data.subarray(at + 4, at + 4 + size))
      at += 4 + size
    }
    data = data.subarray(at)
    // a copy: the rest must not pin a large chunk
    this.pending = data.length === 0 ? Buffer.alloc(0) : Buffer.from(data)
  }
}

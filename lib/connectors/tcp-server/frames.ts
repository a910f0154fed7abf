import { StringDecoder } from 'node:string_decoder'

/** A frame: text for line framing, bytes otherwise. */
export type TcpFrame = string | Buffer

/**
 * Cuts one connection's bytes into frames. A decoder is created per connection and keeps what it has
 * of an unfinished frame; `push` calls `emit` for every complete frame in order, and throws
 * {@link FrameTooLargeError} as soon as a frame is known to exceed its limit (before buffering it).
 */
export interface FrameDecoder<F extends TcpFrame = TcpFrame> {
  push(chunk: Buffer, emit: (frame: F) => void): void
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
 * Lines of UTF-8 text ended by `\n` (a `\r` before it is dropped), Netty's LineBasedFrameDecoder; the
 * frames are strings (cut from one string per chunk: no Buffer per line), and `maxFrameChars` bounds a
 * line in characters. A last line without `\n` is not emitted.
 *
 * @example
 * const lines = new LineFrames(1024)
 * lines.push(Buffer.from('a\nb'), (f) => console.log(f)) // 'a'
 */
export class LineFrames implements FrameDecoder<string> {
  private readonly decoder = new StringDecoder('utf8')
  private rest = ''

  constructor(private readonly maxFrameChars: number) {}

  get pendingBytes(): number {
    return this.rest.length
  }

  push(chunk: Buffer, emit: (frame: string) => void): void {
    const text = this.rest === '' ? this.decoder.write(chunk) : this.rest + this.decoder.write(chunk)
    const max = this.maxFrameChars
    let start = 0
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end
      if (stop - start > max) throw new FrameTooLargeError(stop - start, max)
      emit(text.slice(start, stop))
      start = end + 1
    }
    if (text.length - start > max) throw new FrameTooLargeError(text.length - start, max)
    this.rest = start === text.length ? '' : text.slice(start)
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
export class LengthPrefixedFrames implements FrameDecoder<Buffer> {
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

import { StringDecoder } from 'node:string_decoder'

/** A frame: text for line framing, bytes otherwise. */
export type TcpFrame = string | Buffer

/**
 * Where a decoder's {@link FrameDecoder.pushTo} hands its frames: an object with a `frame` method (the
 * reader), so the call is the same function for every connection and every job, which V8 inlines and
 * keeps optimized (an `emit` closure per connection was a new call target for each).
 */
export interface FrameSink<F extends TcpFrame = TcpFrame> {
  frame(frame: F): void
}

/**
 * Cuts one connection's bytes into frames. A decoder is created per connection and keeps what it has
 * of an unfinished frame; `push` calls `emit` for every complete frame in order, and throws
 * {@link FrameTooLargeError} as soon as a frame is known to exceed its limit (before buffering it).
 */
export interface FrameDecoder<F extends TcpFrame = TcpFrame> {
  push(chunk: Buffer, emit: (frame: F) => void): void
  /** The same as `push`, handing each frame to `sink.frame`; the reader uses it when a decoder has it (the built-in ones do). */
  pushTo?(chunk: Buffer, sink: FrameSink<F>): void
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
 * line in characters. A last line without `\n` is not emitted. Lines are looked at for a `\r` only when
 * the chunk has one (one search per chunk instead of a character read per line).
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
    this.pushTo(chunk, { frame: emit })
  }

  pushTo(chunk: Buffer, sink: FrameSink<string>): void {
    const text = this.rest === '' ? this.decoder.write(chunk) : this.rest + this.decoder.write(chunk)
    const max = this.maxFrameChars
    const crlf = text.indexOf('\r') !== -1
    let start = 0
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      const stop = crlf && end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end
      if (stop - start > max) throw new FrameTooLargeError(stop - start, max)
      sink.frame(text.slice(start, stop))
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
    this.pushTo(chunk, { frame: emit })
  }

  pushTo(chunk: Buffer, sink: FrameSink<Buffer>): void {
    let data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    let at = 0
    while (data.length - at >= 4) {
      const size = data.readUInt32BE(at)
      if (size > this.maxFrameBytes) throw new FrameTooLargeError(size, this.maxFrameBytes)
      if (data.length - at - 4 < size) break
      sink.frame(data.subarray(at + 4, at + 4 + size))
      at += 4 + size
    }
    data = data.subarray(at)
    // a copy: the rest must not pin a large chunk
    this.pending = data.length === 0 ? Buffer.alloc(0) : Buffer.from(data)
  }
}

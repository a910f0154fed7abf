/**
 * Reusable buffers for the chunks a subtask's parts write, so that a busy sink does not allocate a new
 * buffer outside the JavaScript heap for every chunk: V8 answers a steady growth of such memory with
 * full collections, and a sink writing behind its input holds many chunks at once. A chunk goes back to
 * the pool only once the store is done with it (a local file, once its write returned; never an S3
 * part, which keeps chunks until it uploads them, nor what an encoder's `wrap` was given). Buffers the
 * pool did not make are never taken into it.
 *
 * Bounds: a chunk larger than `bufferBytes` gets a buffer of its own, never pooled; at most `maxFree`
 * buffers wait for reuse.
 *
 * @example
 * const pool = new ChunkPool(128 * 1024, 16)
 * const chunk = pool.acquire(100); await file.write(chunk); pool.release(chunk)
 */
export class ChunkPool {
  private readonly free: ArrayBuffer[] = []
  private readonly made = new WeakSet<ArrayBufferLike>()

  constructor(
    readonly bufferBytes: number,
    private readonly maxFree: number,
  ) {}

  /** A buffer of exactly `bytes` (a view of a pooled buffer when it fits one). */
  acquire(bytes: number): Buffer {
    if (bytes > this.bufferBytes) return Buffer.allocUnsafeSlow(bytes)
    let buffer = this.free.pop()
    if (buffer === undefined) {
      buffer = new ArrayBuffer(this.bufferBytes)
      this.made.add(buffer)
    }
    return Buffer.from(buffer, 0, bytes)
  }

  /** Takes back the buffer under `chunk` when the pool made it; the caller must not use `chunk` again. */
  release(chunk: Uint8Array): void {
    const buffer = chunk.buffer
    if (this.free.length < this.maxFree && this.made.has(buffer)) this.free.push(buffer as ArrayBuffer)
  }
}

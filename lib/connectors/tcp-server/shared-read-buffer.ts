import { Socket } from 'node:net'

/** What a socket's reads are handed to: the bytes are valid only during the call. */
export type OnBytes = (bytes: Buffer) => void

/**
 * Reads an accepted plain-TCP connection into one buffer that a reader's connections share (Node's
 * `onread` option, which `net.Server` does not offer for the connections it accepts), instead of the
 * stream's fresh `Buffer` per read: Node allocates 64 KiB for every read, copies a short read into a new
 * zero-filled store and frees the first, and the freed stores let the C heap shrink and grow again, so
 * the next reads land on fresh pages (page faults, cold caches): in one long-running job on loopback about
 * a fifth of the engine's CPU per line, depending on the process's heap (benchmarks/results/
 * 2026-12-05-tcp-shared-read-buffer.md). Pausing the
 * returned socket stops reading at the handle (no read-ahead chunk).
 *
 * The accepted socket is connected with `pauseOnConnect` and keeps its place in the server (the
 * connection count `maxConnections` checks, `server.close()` waiting) until the reading socket closes;
 * then it is destroyed too. Only for framings whose frames do not point into the bytes (lines: the
 * decoder makes strings and copies a split UTF-8 character), as the next read overwrites them.
 * Returns undefined when the socket has no handle to move (a Node without `_handle`): the caller reads
 * the accepted socket as a stream.
 *
 * @example
 * const server = createServer({ pauseOnConnect: true }, (accepted) => {
 *   const socket = readIntoSharedBuffer(accepted, Buffer.allocUnsafe(65536), (bytes) => lines.pushTo(bytes, sink))
 * })
 */
export function readIntoSharedBuffer(accepted: Socket, buffer: Buffer, onBytes: OnBytes): Socket | undefined {
  const carrier = accepted as unknown as { _handle?: unknown }
  const handle = carrier._handle
  if (handle === undefined || handle === null) return undefined
  carrier._handle = null
  const socket = new Socket({
    handle,
    onread: { buffer, callback: (n: number, bytes: Buffer) => onBytes(bytes.subarray(0, n)) },
  } as ConstructorParameters<typeof Socket>[0])
  socket.once('close', () => accepted.destroy())
  return socket
}

// The input and the client of the tcp-server-source case (benchmarks/cases/ingest.ts), shared by its
// per-run contenders and the steady-state child process (tcp-steady-server.ts).
import { connect, type Socket } from 'node:net'

/**
 * The lines `0\n1\n…(n-1)\n` as one buffer, built outside any timing.
 *
 * @example
 * linesOf(3).toString() // '0\n1\n2\n'
 */
export function linesOf(n: number): Buffer {
  let text = ''
  for (let i = 0; i < n; i++) text += `${i}\n`
  return Buffer.from(text)
}

/**
 * Writes `data` to 127.0.0.1:port over a new connection and closes it; the client socket is returned.
 *
 * @example
 * send(port, linesOf(1_000)).once('close', () => console.log('sent'))
 */
export function send(port: number, data: Buffer): Socket {
  const socket = connect(port, '127.0.0.1', () => socket.end(data))
  return socket
}

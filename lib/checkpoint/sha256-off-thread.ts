import { createHash } from 'node:crypto'
import { Worker } from 'node:worker_threads'

/** Below this many bytes a state is hashed at once: posting it would cost about as much. */
const INLINE_BYTES = 1 << 20

/** The hashing thread's code: plain CommonJS, so it starts without the TypeScript loader. */
const HASHER = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
parentPort.on('message', ({ id, parts }) => {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  parentPort.postMessage({ id, checksum: hash.digest('hex') })
})`

interface Hasher {
  readonly worker: Worker
  readonly pending: Map<number, { resolve: (checksum: string) => void; reject: (error: Error) => void }>
  next: number
}

let hasher: Hasher | undefined

/**
 * The hex SHA-256 of the parts, in order. Large states are hashed on a helper thread (one per thread
 * that asks, started on first use, kept only while it has work): parts in a `SharedArrayBuffer` (a
 * keyed snapshot's buffer) reach it without a copy, so the event loop pays neither the copy WebCrypto
 * makes nor the hashing. Parts in ordinary memory, or small states, are hashed here at once.
 *
 * @example
 * const checksum = await sha256OffThread([head, snapshot.data])
 */
export function sha256OffThread(parts: readonly Uint8Array[]): Promise<string> {
  let bytes = 0
  let ordinary = 0
  for (const part of parts) {
    bytes += part.byteLength
    if (!(part.buffer instanceof SharedArrayBuffer)) ordinary += part.byteLength
  }
  if (bytes < INLINE_BYTES || ordinary >= INLINE_BYTES) {
    const hash = createHash('sha256')
    for (const part of parts) hash.update(part)
    return Promise.resolve(hash.digest('hex'))
  }
  const h = (hasher ??= startHasher())
  const id = h.next++
  return new Promise((resolve, reject) => {
    h.pending.set(id, { resolve, reject })
    h.worker.ref()
    h.worker.postMessage({ id, parts })
  })
}

function startHasher(): Hasher {
  const worker = new Worker(HASHER, { eval: true, execArgv: [] })
  const h: Hasher = { worker, pending: new Map(), next: 0 }
  worker.unref()
  worker.on('message', ({ id, checksum }: { id: number; checksum: string }) => {
    h.pending.get(id)?.resolve(checksum)
    h.pending.delete(id)
    if (h.pending.size === 0) worker.unref()
  })
  const fail = (error: Error): void => {
    if (hasher === h) hasher = undefined
    for (const waiting of h.pending.values()) waiting.reject(error)
    h.pending.clear()
  }
  worker.on('error', fail)
  worker.on('exit', (code) => fail(new Error(`the SHA-256 thread exited with code ${code}`)))
  return h
}

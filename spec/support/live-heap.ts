import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

const gc: () => void = exposeGc()

function exposeGc(): () => void {
  const global = (globalThis as { gc?: () => void }).gc
  if (typeof global === 'function') return global
  // without --expose-gc on the command line: expose it now and take it from a fresh context
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

/**
 * The bytes of live objects on the heap now: a full collection first, so garbage not yet collected
 * does not count. Tests that assert memory stays bounded sample this (it costs a few milliseconds).
 *
 * @example
 * const before = liveHeapBytes()
 * // … load …
 * assert.ok(liveHeapBytes() - before < 32 * 2 ** 20)
 */
export function liveHeapBytes(): number {
  gc()
  return process.memoryUsage().heapUsed
}

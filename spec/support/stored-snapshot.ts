import { decodeStateFile, encodeStateFile } from '../../lib/checkpoint/state-file.js'
import type { KeyedStateSnapshot } from '../../lib/state/keyed-snapshot.js'

/**
 * A keyed snapshot as a restore gets it from checkpoint storage: encoded as a state file, its parts
 * concatenated as on disk, decoded (the data no longer shares memory with the writer's buffer).
 *
 * @example
 * restoreKeyedState(backend, timers, [storedAndReadBack(writer.result())])
 */
export function storedAndReadBack(snapshot: KeyedStateSnapshot): KeyedStateSnapshot {
  const { head, body } = encodeStateFile({ keyed: snapshot })
  return decodeStateFile(Buffer.concat(body === undefined ? [head] : [head, body]), 'spec').keyed!
}

import type { Key } from './key-groups.js'

/**
 * The key the runtime is processing now. The runtime sets it before it hands a record or a timer to a
 * keyed operator; every keyed state reads and writes the entry of this key.
 */
export class KeyContext {
  key: Key = ''
  keyGroup = 0

  set(key: Key, keyGroup: number): void {
    this.key = key
    this.keyGroup = keyGroup
  }
}

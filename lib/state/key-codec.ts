import type { Key } from './key-groups.js'
import { jsonSerializer } from './serializers/json-serializer.js'

/**
 * A key as checkpoint JSON: keys are primitives; only bigints need a tag.
 *
 * @example
 * decodeKey(encodeKey(12n)) // 12n
 */
export function encodeKey(key: Key): unknown {
  return typeof key === 'bigint' ? jsonSerializer.serialize(key) : key
}

/** The key `encodeKey` wrote. */
export function decodeKey(data: unknown): Key {
  return (typeof data === 'object' ? jsonSerializer.deserialize(data, 1) : data) as Key
}

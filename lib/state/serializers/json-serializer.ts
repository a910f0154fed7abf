import { StateError } from '../../errors.js'
import type { StateSerializer } from './serializer.js'

const TAG = '$sluice'

/**
 * The default state serializer: JSON, extended so that `Map`, `Set`, `bigint`, `Date`, `Buffer` and
 * `Uint8Array` (as base64), `undefined` in arrays and non-finite numbers survive a round trip. Version 1.
 *
 * @example
 * const s = jsonSerializer
 * s.deserialize(JSON.parse(JSON.stringify(s.serialize(new Map([['a', 1n]])))), 1) // Map { 'a' => 1n }
 */
export const jsonSerializer: StateSerializer<unknown> = {
  id: 'json',
  version: 1,
  serialize: (value) => encode(value),
  deserialize: (data, version) => {
    if (version !== 1)
      throw new StateError(
        'ERR_SERIALIZER_VERSION',
        `state written by json serializer version ${version}; this build reads version 1`,
      )
    return decode(data)
  },
}

function encode(value: unknown): unknown {
  switch (typeof value) {
    case 'bigint':
      return { [TAG]: 'bigint', v: value.toString() }
    case 'number':
      return Number.isFinite(value) ? value : { [TAG]: 'number', v: String(value) }
    case 'undefined':
      return { [TAG]: 'undefined' }
    case 'object': {
      if (value === null) return null
      if (Array.isArray(value)) return value.map(encode)
      if (value instanceof Map) return { [TAG]: 'map', v: [...value].map(([k, v]) => [encode(k), encode(v)]) }
      if (value instanceof Set) return { [TAG]: 'set', v: [...value].map(encode) }
      if (value instanceof Date) return { [TAG]: 'date', v: value.getTime() }
      if (value instanceof Uint8Array)
        return {
          [TAG]: Buffer.isBuffer(value) ? 'buffer' : 'bytes',
          v: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
        }
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = encode(v)
      return out
    }
    default:
      return value
  }
}

function decode(data: unknown): unknown {
  if (data === null || typeof data !== 'object') return data
  if (Array.isArray(data)) return data.map(decode)
  const record = data as Record<string, unknown>
  switch (record[TAG]) {
    case undefined: {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(record)) out[k] = decode(v)
      return out
    }
    case 'bigint':
      return BigInt(record.v as string)
    case 'number':
      return Number(record.v)
    case 'undefined':
      return undefined
    case 'map':
      return new Map((record.v as [unknown, unknown][]).map(([k, v]) => [decode(k), decode(v)]))
    case 'set':
      return new Set((record.v as unknown[]).map(decode))
    case 'date':
      return new Date(record.v as number)
    case 'buffer':
      return Buffer.from(record.v as string, 'base64')
    case 'bytes':
      return new Uint8Array(Buffer.from(record.v as string, 'base64'))
    default:
      throw new StateError('ERR_STATE_CORRUPT', `unknown tag ${String(record[TAG])} in serialized state`)
  }
}

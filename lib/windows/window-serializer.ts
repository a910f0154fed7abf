import { StateError } from '../errors.js'
import { jsonSerializer } from '../state/serializers/json-serializer.js'
import type { StateSerializer } from '../state/serializers/serializer.js'
import { GlobalWindow } from './global-window.js'
import { TimeWindow } from './time-window.js'

const TAG = '$sluiceWindow'

/**
 * The serializer of the window operator's own state (contents, merging windows, timer index): the
 * default JSON serializer, except that `TimeWindow` and `GlobalWindow` come back from a checkpoint as
 * themselves, with their methods, instead of as plain objects. Version 1.
 *
 * Windows of other types (a custom assigner's) come back as plain objects: give them no methods the
 * operator needs beyond `id` and `maxTimestamp`, or use TimeWindow.
 *
 * @example
 * new MapStateDescriptor('sluice.window.contents', { serializer: windowStateSerializer })
 */
export const windowStateSerializer: StateSerializer<unknown> = {
  id: 'sluice.window-json',
  version: 1,
  serialize: (value) => jsonSerializer.serialize(tag(value)),
  deserialize: (data, version) => {
    if (version !== 1)
      throw new StateError(
        'ERR_SERIALIZER_VERSION',
        `window state written by serializer version ${version}; this build reads version 1`,
      )
    return revive(jsonSerializer.deserialize(data, 1))
  },
}

/** Only arrays, maps and plain objects are walked: anything else is left for the JSON serializer as it is. */
function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function tag(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (value instanceof TimeWindow) return { [TAG]: 'time', start: value.start, end: value.end }
  if (value instanceof GlobalWindow) return { [TAG]: 'global' }
  if (Array.isArray(value)) return value.map(tag)
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, tag(v)]))
  if (!isPlain(value)) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = tag(v)
  return out
}

function revive(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(revive)
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, revive(v)]))
  if (!isPlain(value)) return value
  const record = value as Record<string, unknown>
  if (record[TAG] === 'time') return new TimeWindow(record.start as number, record.end as number)
  if (record[TAG] === 'global') return GlobalWindow.instance
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(record)) out[k] = revive(v)
  return out
}

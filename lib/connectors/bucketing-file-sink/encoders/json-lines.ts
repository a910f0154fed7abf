import { ConfigError, ConnectorError, describeValue } from '../../../errors.js'
import type { Encoder } from './encoder.js'

type Replacer = (this: unknown, key: string, value: unknown) => unknown

/**
 * One JSON document per line (JSON Lines / NDJSON): `JSON.stringify(value, replacer)` and '\n'. JSON
 * escapes line breaks inside strings, so every record is exactly one line. A value JSON cannot represent
 * at the top level (undefined, a function) fails the write with ConnectorError 'ERR_ENCODE', rather than
 * writing a line that reads back as something else.
 *
 * @example
 * bucketingFileSink('/data/out', { encoder: jsonLines() })
 * jsonLines({ replacer: (_k, v) => (typeof v === 'bigint' ? v.toString() : v) })
 */
export function jsonLines<T>(options: { replacer?: Replacer } = {}): Encoder<T> {
  if (options === null || typeof options !== 'object')
    throw new ConfigError('bucketingFileSink.encoder', options, 'an options object')
  const { replacer } = options
  if (replacer !== undefined && typeof replacer !== 'function')
    throw new ConfigError('bucketingFileSink.encoder.replacer', replacer, 'a function (key, value) => value')
  return {
    name: 'json-lines',
    bulk: false,
    encode(value: T): string {
      let text: string | undefined
      try {
        text = JSON.stringify(value, replacer)
      } catch (error) {
        throw new ConnectorError(
          'ERR_ENCODE',
          `bucketingFileSink: record ${describeValue(value)} cannot be written as JSON: ${(error as Error).message}`,
          { cause: error },
        )
      }
      if (text === undefined)
        throw new ConnectorError(
          'ERR_ENCODE',
          `bucketingFileSink: record ${describeValue(value)} has no JSON representation`,
        )
      return `${text}\n`
    },
  }
}

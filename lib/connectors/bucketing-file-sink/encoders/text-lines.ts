import { ConfigError } from '../../../errors.js'
import type { Encoder } from './encoder.js'

/**
 * One line per record (Flink's SimpleStringEncoder): `String(value)`, or `format(value)` when given,
 * followed by '\n'. Line breaks inside the text are written as they are; use {@link jsonLines} or
 * {@link csv} when values may hold them.
 *
 * @example
 * bucketingFileSink('/data/out', { encoder: textLines((e: Event) => `${e.id}\t${e.name}`) })
 */
export function textLines<T>(format?: (value: T) => string): Encoder<T> {
  if (format !== undefined && typeof format !== 'function')
    throw new ConfigError('bucketingFileSink.encoder.format', format, 'a function (value) => string')
  if (format === undefined) return { name: 'text-lines', bulk: false, encode: (value: T) => `${String(value)}\n` }
  return { name: 'text-lines', bulk: false, encode: (value: T) => `${format(value)}\n` }
}

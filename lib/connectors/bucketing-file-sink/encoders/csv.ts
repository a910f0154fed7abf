import { csvRow } from '../../files/csv-format.js'
import { ConfigError, ConnectorError, describeValue } from '../../../errors.js'
import type { Encoder } from './encoder.js'

/** Options of {@link csv}. */
export interface CsvEncoderOptions<T> {
  /**
   * Property names taken from each object record, in order; also the default header. Without `columns`
   * or `row`, a record must be an array of fields.
   */
  columns?: readonly string[]
  /** The fields of a record; overrides `columns` for reading records. */
  row?: (value: T) => readonly unknown[]
  /** Write a header row at the start of every part file: true (the `columns`) or the names; default false. */
  header?: boolean | readonly string[]
  /** Default ','; one character, not '"', CR or LF. */
  delimiter?: string
  /** Default '\n'; RFC 4180 prescribes '\r\n'. */
  lineEnding?: '\n' | '\r\n'
}

/**
 * One CSV row per record, quoted as RFC 4180 says: a field holding the delimiter, a double quote, CR or
 * LF is enclosed in double quotes with its quotes doubled; other fields are bare. null and undefined are
 * empty fields, Dates ISO-8601, other objects JSON, the rest `String`. The header, when asked for, is
 * written once at the start of every part file, so each file reads on its own.
 *
 * @example
 * bucketingFileSink('/data/orders', { encoder: csv<Order>({ columns: ['id', 'customer', 'total'], header: true }) })
 */
export function csv<T>(options: CsvEncoderOptions<T> = {}): Encoder<T> {
  if (options === null || typeof options !== 'object')
    throw new ConfigError('bucketingFileSink.encoder', options, 'an options object')
  const delimiter = options.delimiter ?? ','
  if (
    typeof delimiter !== 'string' ||
    delimiter.length !== 1 ||
    delimiter === '"' ||
    delimiter === '\r' ||
    delimiter === '\n'
  ) {
    throw new ConfigError('bucketingFileSink.encoder.delimiter', delimiter, "one character other than '\"', CR and LF")
  }
  const lineEnding = options.lineEnding ?? '\n'
  if (lineEnding !== '\n' && lineEnding !== '\r\n')
    throw new ConfigError('bucketingFileSink.encoder.lineEnding', lineEnding, "'\\n' or '\\r\\n'")
  const { columns, row } = options
  if (
    columns !== undefined &&
    (!Array.isArray(columns) || columns.length === 0 || !columns.every((c) => typeof c === 'string'))
  ) {
    throw new ConfigError('bucketingFileSink.encoder.columns', columns, 'a non-empty array of property names')
  }
  if (row !== undefined && typeof row !== 'function')
    throw new ConfigError('bucketingFileSink.encoder.row', row, 'a function (value) => fields')
  let headerNames: readonly string[] | undefined
  if (options.header === true) {
    if (columns === undefined)
      throw new ConfigError('bucketingFileSink.encoder.header', true, 'column names, or true together with columns')
    headerNames = columns
  } else if (Array.isArray(options.header)) headerNames = options.header
  else if (options.header !== undefined && options.header !== false)
    throw new ConfigError('bucketingFileSink.encoder.header', options.header, 'true, false or an array of names')
  const fieldsOf = (value: T): readonly unknown[] => {
    if (row !== undefined) return row(value)
    if (columns !== undefined) {
      const record = value as Record<string, unknown>
      return columns.map((c) => record?.[c])
    }
    if (Array.isArray(value)) return value
    throw new ConnectorError(
      'ERR_ENCODE',
      `bucketingFileSink: CSV record ${describeValue(value)} is not an array; give the encoder columns or a row function`,
    )
  }
  return {
    name: 'csv',
    bulk: false,
    header: headerNames === undefined ? undefined : csvRow(headerNames, delimiter, lineEnding),
    encode: (value: T) => csvRow(fieldsOf(value), delimiter, lineEnding),
  }
}

import { ConfigError } from '../../../errors.js'

/** The column types of {@link ParquetColumn}, as hyparquet-writer names them. */
export type ParquetColumnType =
  | 'BOOLEAN'
  | 'INT32'
  | 'INT64'
  | 'FLOAT'
  | 'DOUBLE'
  | 'STRING'
  | 'BYTE_ARRAY'
  | 'JSON'
  | 'TIMESTAMP'

/**
 * One column of a Parquet part file: the record property `name`, its type, and whether it may be null
 * (or absent). What each type takes: BOOLEAN a boolean; INT32 an integer in 32 bits; INT64 a bigint in
 * 64 bits or a safe integer; FLOAT and DOUBLE a number; STRING a string; BYTE_ARRAY a Uint8Array; JSON
 * any value JSON.stringify writes; TIMESTAMP a valid Date (written as milliseconds, UTC).
 */
export interface ParquetColumn {
  readonly name: string
  readonly type: ParquetColumnType
  /** Default false: a record without a value for the column is refused (dead letter). */
  readonly nullable?: boolean
}

const TYPES: readonly ParquetColumnType[] = [
  'BOOLEAN',
  'INT32',
  'INT64',
  'FLOAT',
  'DOUBLE',
  'STRING',
  'BYTE_ARRAY',
  'JSON',
  'TIMESTAMP',
]
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/**
 * Checks the user's columns when the sink is built (ConfigError naming `bucketingFileSink.encoder.columns[i]`).
 *
 * @example
 * const columns = checkColumns([{ name: 'id', type: 'INT64' }, { name: 'note', type: 'STRING', nullable: true }])
 */
export function checkColumns(columns: unknown): readonly ParquetColumn[] {
  if (!Array.isArray(columns) || columns.length === 0)
    throw new ConfigError('bucketingFileSink.encoder.columns', columns, 'a non-empty array of { name, type }')
  const names = new Set<string>()
  columns.forEach((column: Partial<ParquetColumn> | null, i) => {
    const path = `bucketingFileSink.encoder.columns[${i}]`
    if (column === null || typeof column !== 'object') throw new ConfigError(path, column, '{ name, type, nullable? }')
    if (typeof column.name !== 'string' || column.name === '' || names.has(column.name))
      throw new ConfigError(`${path}.name`, column.name, 'a property name, unique among the columns')
    names.add(column.name)
    if (!TYPES.includes(column.type as ParquetColumnType))
      throw new ConfigError(`${path}.type`, column.type, `one of ${TYPES.join(', ')}`)
    if (column.nullable !== undefined && typeof column.nullable !== 'boolean')
      throw new ConfigError(`${path}.nullable`, column.nullable, 'true or false')
  })
  return columns as ParquetColumn[]
}

/**
 * About how many bytes `value` takes in a column of `type`, or -1 when the column cannot hold it
 * (null and undefined are for the caller to judge).
 *
 * @example
 * columnValueBytes('INT32', 7) // 4
 * columnValueBytes('INT32', 2 ** 40) // -1
 */
export function columnValueBytes(type: ParquetColumnType, value: unknown): number {
  switch (type) {
    case 'BOOLEAN':
      return typeof value === 'boolean' ? 1 : -1
    case 'INT32':
      return typeof value === 'number' && (value | 0) === value ? 4 : -1
    case 'INT64':
      if (typeof value === 'bigint') return value >= INT64_MIN && value <= INT64_MAX ? 8 : -1
      return Number.isSafeInteger(value) ? 8 : -1
    case 'FLOAT':
      return typeof value === 'number' ? 4 : -1
    case 'DOUBLE':
      return typeof value === 'number' ? 8 : -1
    case 'STRING':
      return typeof value === 'string' ? value.length + 4 : -1
    case 'BYTE_ARRAY':
      return value instanceof Uint8Array ? value.byteLength + 4 : -1
    case 'TIMESTAMP':
      return value instanceof Date && !Number.isNaN(value.getTime()) ? 8 : -1
    case 'JSON':
      return jsonBytes(value)
  }
}

function jsonBytes(value: unknown): number {
  try {
    const text = JSON.stringify(value)
    return text === undefined ? -1 : text.length + 4
  } catch {
    return -1
  }
}

/**
 * What a column of `type` takes, for a dead letter's reason.
 *
 * @example
 * expectedValue('INT32') // 'an integer in 32 bits'
 */
export function expectedValue(type: ParquetColumnType): string {
  switch (type) {
    case 'BOOLEAN':
      return 'a boolean'
    case 'INT32':
      return 'an integer in 32 bits'
    case 'INT64':
      return 'a bigint in 64 bits or a safe integer'
    case 'FLOAT':
    case 'DOUBLE':
      return 'a number'
    case 'STRING':
      return 'a string'
    case 'BYTE_ARRAY':
      return 'a Uint8Array'
    case 'TIMESTAMP':
      return 'a valid Date'
    case 'JSON':
      return 'a value JSON.stringify can write'
  }
}

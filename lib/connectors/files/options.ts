import { ConfigError } from '../../errors.js'
import type { Logger } from '../../logging.js'
import { optionKeys } from '../../util/options.js'

/**
 * Text encodings the file sources accept. Positions are byte offsets of line starts, found by searching
 * for the byte 0x0A; that is only sound for encodings in which '\n' is one byte that never occurs inside
 * another character — UTF-8 and the single-byte encodings. UTF-16 files must be converted first.
 */
export type LineEncoding = 'utf8' | 'utf-8' | 'ascii' | 'latin1' | 'binary'

const LINE_ENCODINGS: readonly string[] = ['utf8', 'utf-8', 'ascii', 'latin1', 'binary']

/** Options of {@link TextFileSource} (Flink's readTextFile). */
export interface TextFileSourceOptions {
  /** Default 'utf8'; a UTF-8 byte-order mark at the start of a file is skipped. */
  encoding?: LineEncoding
  /**
   * Bytes read from the file at a time, and what the reader holds: default 64 KiB. Only a single line
   * longer than this makes the buffer grow (a line has to be held whole to be emitted).
   */
  bufferSize?: number
}

/** Options of {@link DirectoryMonitorSource} (Flink's readFile with PROCESS_CONTINUOUSLY). */
export interface DirectoryMonitorOptions extends TextFileSourceOptions {
  /** Time between two scans of the directory once everything found was read; default 1000 ms. */
  intervalMs?: number
  /**
   * Which file names to read: a RegExp tested against the name, or a glob on the name (`*`, `?`,
   * `[abc]`). Names starting with '.' or '_' are always skipped (files being written by tools that
   * rename when done, as Flink's default filter). Default: every other regular file.
   */
  pattern?: RegExp | string
  /** Read the files present at the first scan, then end (Flink's PROCESS_ONCE); default false. */
  processOnce?: boolean
  /** Where warnings (a truncated or replaced file) go; default the JSON-lines logger on standard error. */
  logger?: Logger
}

/** What a file sink does when its output file already exists. */
export type WriteMode = 'overwrite' | 'fail-if-exists'

/** Options shared by the file sinks. */
export interface FileSinkOptions {
  /** Default 'fail-if-exists', as Flink's writeAsText. */
  writeMode?: WriteMode
  /** Characters gathered before one write to the file; default 16 KiB. */
  batchSize?: number
}

/** Options of {@link TextFileSink} (Flink's writeAsText). */
export interface TextFileSinkOptions<T> extends FileSinkOptions {
  /** Turns a record into its line (without the newline); default: strings as is, others JSON. */
  serializer?: (value: T) => string
}

/** Options of {@link CsvFileSink} (Flink's writeAsCsv). */
export interface CsvFileSinkOptions<T> extends FileSinkOptions {
  /** Default ','. */
  fieldDelimiter?: string
  /** Default '\n'. */
  rowDelimiter?: string
  /** Column names written as the first row of every output file. */
  header?: string[]
  /**
   * The fields of a record. Default: an array as is; a plain object's values (in `header` order when
   * there is a header); anything else as one field.
   */
  fields?: (value: T) => unknown[]
}

/**
 * Throws a ConfigError unless `encoding` is one the line readers can position in; returns it or 'utf8'.
 *
 * @example
 * validateEncoding('readTextFile.encoding', 'latin1') // 'latin1'
 */
export function validateEncoding(option: string, encoding: unknown): LineEncoding {
  if (encoding === undefined) return 'utf8'
  if (typeof encoding !== 'string' || !LINE_ENCODINGS.includes(encoding)) {
    throw new ConfigError(
      option,
      encoding,
      `one of ${LINE_ENCODINGS.join(', ')} (encodings where '\\n' is a single byte)`,
    )
  }
  return encoding as LineEncoding
}

/**
 * Throws a ConfigError unless `value` is a whole number of at least `min`; returns it or the default.
 *
 * @example
 * validateWholeNumber('monitorDirectory.intervalMs', undefined, 1000, 1) // 1000
 */
export function validateWholeNumber(option: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    throw new ConfigError(option, value, `a whole number of at least ${min}`)
  return value
}

/**
 * Throws a ConfigError unless `value` is a non-empty string.
 *
 * @example
 * validatePath('textFileSink.path', '/tmp/out.txt')
 */
export function validatePath(option: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(option, value, 'a non-empty path')
  return value
}

/**
 * Throws a ConfigError unless `mode` is a {@link WriteMode}; returns it or 'fail-if-exists'.
 *
 * @example
 * validateWriteMode('csvFileSink.writeMode', undefined) // 'fail-if-exists'
 */
export function validateWriteMode(option: string, mode: unknown): WriteMode {
  if (mode === undefined) return 'fail-if-exists'
  if (mode !== 'overwrite' && mode !== 'fail-if-exists')
    throw new ConfigError(option, mode, "'overwrite' | 'fail-if-exists'")
  return mode
}

/** The option names of each file connector, for `optionsObject` (a misspelt one is refused). */
export const TEXT_FILE_SOURCE_OPTIONS = optionKeys<TextFileSourceOptions>({ encoding: true, bufferSize: true })
export const DIRECTORY_MONITOR_OPTIONS = optionKeys<DirectoryMonitorOptions>({
  encoding: true,
  bufferSize: true,
  intervalMs: true,
  pattern: true,
  processOnce: true,
  logger: true,
})
export const TEXT_FILE_SINK_OPTIONS = optionKeys<TextFileSinkOptions<unknown>>({
  writeMode: true,
  batchSize: true,
  serializer: true,
})
export const CSV_FILE_SINK_OPTIONS = optionKeys<CsvFileSinkOptions<unknown>>({
  writeMode: true,
  batchSize: true,
  fieldDelimiter: true,
  rowDelimiter: true,
  header: true,
  fields: true,
})

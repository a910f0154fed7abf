import { optionsObject } from '../../util/options.js'
import { ConfigError } from '../../errors.js'
import type { Sink, SinkWriterContext } from '../../runtime/sink.js'
import { csvRow } from './csv-format.js'
import { FileSinkWriter } from './file-sink-writer.js'
import {
  CSV_FILE_SINK_OPTIONS,
  validatePath,
  validateWholeNumber,
  validateWriteMode,
  type CsvFileSinkOptions,
  type WriteMode,
} from './options.js'
import { OutputFiles } from './output-files.js'

/**
 * Writes each record as one CSV row (Flink's writeAsCsv), quoted per RFC 4180: a field holding a
 * delimiter, a double quote or a line break is enclosed in quotes with its quotes doubled, so any
 * CSV reader gets the fields back. Records become fields through `fields`; by default an array is the
 * row, a plain object gives its values (in `header` order with a header), and any other value is one
 * field. A `header` is written as the first row of every output file.
 *
 * Paths, write modes, backpressure and the exactly-once guarantee (a restore cuts each file back to
 * its checkpointed length) are those of {@link TextFileSink}: `path` is the file at parallelism 1 and a
 * directory of files `1`, `2`, … above.
 *
 * @example
 * counts.sinkTo(new CsvFileSink('/tmp/counts.csv', { header: ['word', 'count'], writeMode: 'overwrite' }))
 * // word,count
 * // "hello, world",2
 */
export class CsvFileSink<T> implements Sink<T> {
  readonly name = 'csv-file'
  readonly guarantee = 'exactly-once'
  readonly writeMode: WriteMode
  readonly fieldDelimiter: string
  readonly rowDelimiter: string
  readonly header: readonly string[] | undefined
  readonly batchSize: number
  private readonly fields: (value: T) => readonly unknown[]
  private readonly outputs: OutputFiles

  constructor(path: string, options: CsvFileSinkOptions<T> = {}) {
    validatePath('csvFileSink.path', path)
    optionsObject('csvFileSink', options, CSV_FILE_SINK_OPTIONS)
    this.writeMode = validateWriteMode('csvFileSink.writeMode', options.writeMode)
    this.batchSize = validateWholeNumber('csvFileSink.batchSize', options.batchSize, 16_384, 1)
    this.fieldDelimiter = options.fieldDelimiter ?? ','
    this.rowDelimiter = options.rowDelimiter ?? '\n'
    validateDelimiter('csvFileSink.fieldDelimiter', this.fieldDelimiter)
    validateDelimiter('csvFileSink.rowDelimiter', this.rowDelimiter)
    if (this.fieldDelimiter.includes(this.rowDelimiter) || this.rowDelimiter.includes(this.fieldDelimiter)) {
      throw new ConfigError(
        'csvFileSink.fieldDelimiter',
        this.fieldDelimiter,
        `a delimiter that neither contains nor is contained in rowDelimiter (${JSON.stringify(this.rowDelimiter)})`,
      )
    }
    if (
      options.header !== undefined &&
      (!Array.isArray(options.header) || options.header.some((name) => typeof name !== 'string'))
    ) {
      throw new ConfigError('csvFileSink.header', options.header, 'an array of column names')
    }
    this.header = options.header
    if (options.fields !== undefined && typeof options.fields !== 'function')
      throw new ConfigError('csvFileSink.fields', options.fields, 'a function (value) => unknown[]')
    this.fields = options.fields ?? defaultFields(this.header)
    this.outputs = new OutputFiles('csvFileSink', path, this.writeMode)
  }

  /** The file or directory written (absolute). */
  get path(): string {
    return this.outputs.path
  }

  /**
   * Opens the subtask's file and writes the header, unless a restore continues a file that has it.
   *
   * @example
   * const writer = sink.createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createWriter(context: SinkWriterContext, restored?: readonly unknown[]): FileSinkWriter<T> {
    const { fieldDelimiter, rowDelimiter, fields } = this
    const output = this.outputs.open(context.subtask, context.parallelism, restored)
    const writer = new FileSinkWriter<T>(
      output,
      (value) => csvRow(fields(value), fieldDelimiter, rowDelimiter),
      this.batchSize,
      'csvFileSink',
    )
    if (this.header !== undefined && output.length === 0)
      writer.writeText(csvRow(this.header, fieldDelimiter, rowDelimiter))
    return writer
  }
}

function validateDelimiter(option: string, delimiter: unknown): void {
  if (typeof delimiter !== 'string' || delimiter === '' || delimiter.includes('"'))
    throw new ConfigError(option, delimiter, 'a non-empty string without a double quote')
}

function defaultFields<T>(header: readonly string[] | undefined): (value: T) => readonly unknown[] {
  return (value) => {
    if (Array.isArray(value)) return value
    if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      const record = value as Record<string, unknown>
      return header !== undefined ? header.map((name) => record[name]) : Object.values(record)
    }
    return [value]
  }
}

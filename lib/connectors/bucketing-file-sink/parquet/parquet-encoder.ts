import type { ColumnSource, ParquetWriter, Writer } from 'hyparquet-writer'
import { ConfigError, describeValue } from '../../../errors.js'
import { optionalDependency } from '../../../util/optional-dependency.js'
import type { BlockEncoder, BlockWriter } from '../encoders/block-encoder.js'
import type { PartOutput } from '../encoders/encoder.js'
import { type ParquetColumn, checkColumns, columnValueBytes, expectedValue } from './parquet-columns.js'

const hyparquetWriter = await optionalDependency<typeof import('hyparquet-writer')>('hyparquet-writer')
const hyparquet = await optionalDependency<typeof import('hyparquet')>('hyparquet')

/** Options of {@link parquet}. */
export interface ParquetOptions {
  /** Page compression: 'SNAPPY' (the default) or 'UNCOMPRESSED'. */
  codec?: 'SNAPPY' | 'UNCOMPRESSED'
  /**
   * Bytes of records (as the columns' sizes estimate them) a part holds before it writes them as one
   * row group; default 4 MiB. The bound on what an open Parquet part holds in memory, besides the
   * sink's `writeBufferBytes`.
   */
  rowGroupBytes?: number
}

/**
 * Parquet part files (Flink's ParquetWriterFactory), written with hyparquet-writer: each part file is one
 * Parquet file of the given flat `columns`, written a row group at a time (`rowGroupBytes`) with
 * dictionary encoding, statistics and the chosen codec; the footer is written when the part rolls (on a
 * checkpoint). A record is an object whose properties are named as the columns; one whose value does not
 * fit its column (a string in an INT32 column, a missing non-nullable value) goes to the dead-letter
 * output naming the column, and the file stays valid. Needs the optional package `hyparquet-writer`.
 *
 * @example
 * import { parquet } from 'sluice/connectors/bucketing-file-sink/parquet'
 * stream.sinkTo(bucketingFileSink('/data/orders', {
 *   encoder: parquet<Order>([{ name: 'id', type: 'INT64' }, { name: 'customer', type: 'STRING' }, { name: 'total', type: 'DOUBLE' }]),
 *   outputFileConfig: { partSuffix: '.parquet' },
 * }))
 */
export function parquet<T>(columns: readonly ParquetColumn[], options: ParquetOptions = {}): BlockEncoder<T> {
  const library = hyparquetWriter.get('parquet')
  const checked = checkColumns(columns).map((c) => ({ name: c.name, type: c.type, nullable: c.nullable === true }))
  if (options === null || typeof options !== 'object')
    throw new ConfigError('bucketingFileSink.encoder.parquet', options, 'an options object')
  const codec = options.codec ?? 'SNAPPY'
  if (codec !== 'SNAPPY' && codec !== 'UNCOMPRESSED')
    throw new ConfigError('bucketingFileSink.encoder.codec', codec, "'SNAPPY' or 'UNCOMPRESSED'")
  const rowGroupBytes = options.rowGroupBytes ?? 4 * 1024 * 1024
  if (!Number.isSafeInteger(rowGroupBytes) || rowGroupBytes < 1)
    throw new ConfigError('bucketingFileSink.encoder.rowGroupBytes', rowGroupBytes, 'a whole number of at least 1')
  const schema = library.schemaFromColumnData({
    columnData: checked.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable, data: [] })),
  })
  const format: ParquetFormat = { library, columns: checked, schema, codec, rowGroupBytes }
  return {
    name: 'parquet',
    bulk: true,
    blocks: true,
    check: (value: T) => recordBytes(checked, value),
    reason: (value: T) => refusalReason(checked, value),
    open: (output: PartOutput) => new ParquetPartWriter(format, output),
    mergeParts: (sources, output) => mergeParquetFiles(format, sources, output),
  }
}

/**
 * Merges Parquet files this encoder wrote into one (compaction): each source is read with hyparquet
 * (a dependency of hyparquet-writer) and its rows written again, in row groups of `rowGroupBytes`, with
 * one footer. Re-encoding rather than copying column chunks keeps the footer's offsets and statistics
 * right without a Thrift writer of our own, and merges small row groups into large ones.
 */
async function mergeParquetFiles(
  format: ParquetFormat,
  sources: AsyncIterable<Uint8Array>,
  output: PartOutput,
): Promise<void> {
  const { parquetReadObjects } = hyparquet.get('parquet compaction')
  const writer = new ParquetPartWriter(format, output)
  const columns = format.columns.map((c) => c.name)
  for await (const source of sources) {
    const file = source.buffer.slice(source.byteOffset, source.byteOffset + source.byteLength) as ArrayBuffer
    const rows = await parquetReadObjects({ file, columns })
    await writer.writeBlock(rows, recordsBytes(format.columns, rows))
  }
  await writer.end()
}

function recordsBytes(columns: readonly CheckedColumn[], rows: readonly unknown[]): number {
  let total = 0
  for (const row of rows) total += Math.max(0, recordBytes(columns, row))
  return total
}

interface CheckedColumn extends ParquetColumn {
  readonly nullable: boolean
}

/** What the writers of one encoder share. */
interface ParquetFormat {
  readonly library: typeof import('hyparquet-writer')
  readonly columns: readonly CheckedColumn[]
  readonly schema: ReturnType<typeof import('hyparquet-writer').schemaFromColumnData>
  readonly codec: 'SNAPPY' | 'UNCOMPRESSED'
  readonly rowGroupBytes: number
}

/** The record's estimated size over all columns, or -1 when a column cannot hold its value. */
function recordBytes(columns: readonly CheckedColumn[], value: unknown): number {
  if (value === null || typeof value !== 'object') return -1
  const record = value as Record<string, unknown>
  let total = 0
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]!
    const field = record[column.name]
    if (field === null || field === undefined) {
      if (!column.nullable) return -1
      total += 1
      continue
    }
    const bytes = columnValueBytes(column.type, field)
    if (bytes < 0) return -1
    total += bytes
  }
  return total
}

function refusalReason(columns: readonly CheckedColumn[], value: unknown): string {
  if (value === null || typeof value !== 'object') return `the record ${describeValue(value)} is not an object`
  const record = value as Record<string, unknown>
  for (const column of columns) {
    const field = record[column.name]
    if (field === null || field === undefined) {
      if (!column.nullable) return `column ${column.name} (${column.type}, not nullable) has no value`
    } else if (columnValueBytes(column.type, field) < 0) {
      return `column ${column.name} is ${describeValue(field)}, not ${expectedValue(column.type)} (${column.type})`
    }
  }
  return 'not valid for the columns'
}

/**
 * One part's Parquet file: records are kept column by column until `rowGroupBytes`, then written as a
 * row group and its bytes passed on; `end` writes the last row group and the footer.
 */
class ParquetPartWriter implements BlockWriter<unknown> {
  private readonly writer: ParquetWriter
  private readonly output: PartOutput
  private data: unknown[][]
  private rows = 0
  private heldBytes = 0

  constructor(
    private readonly format: ParquetFormat,
    output: PartOutput,
  ) {
    this.output = output
    const bytes = new format.library.ByteWriter() as Writer & { index: number }
    // Every row group's bytes go to the part as soon as they are encoded; the buffer is then reused.
    const pass = (): Promise<void> => {
      const chunk = Buffer.from(bytes.getBytes())
      bytes.index = 0
      return output.write(chunk)
    }
    bytes.flush = pass
    bytes.finish = pass
    this.writer = new format.library.ParquetWriter({
      writer: bytes,
      schema: format.schema,
      codec: format.codec,
      createdBy: 'sluice',
    })
    this.data = format.columns.map(() => [])
  }

  async writeBlock(records: readonly unknown[], bytes: number): Promise<void> {
    const { columns } = this.format
    for (let c = 0; c < columns.length; c++) {
      const column = columns[c]!
      const values = this.data[c]!
      const { name } = column
      const int64 = column.type === 'INT64'
      for (const record of records) {
        const value = (record as Record<string, unknown>)[name] ?? null
        values.push(int64 && typeof value === 'number' ? BigInt(value) : value)
      }
    }
    this.rows += records.length
    this.heldBytes += bytes
    if (this.heldBytes >= this.format.rowGroupBytes) await this.writeRowGroup()
  }

  async end(): Promise<void> {
    await this.writeRowGroup()
    await this.writer.finish()
    await this.output.end()
  }

  private async writeRowGroup(): Promise<void> {
    if (this.rows === 0) return
    const columnData: ColumnSource[] = this.format.columns.map((column, c) => ({
      name: column.name,
      data: this.data[c]!,
    }))
    const rows = this.rows
    this.data = this.format.columns.map(() => [])
    this.rows = 0
    this.heldBytes = 0
    await this.writer.write({ columnData, rowGroupSize: rows })
  }
}

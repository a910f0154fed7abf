import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import avsc from 'avsc'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'
import type { BlockEncoder } from '../../../lib/connectors/bucketing-file-sink/index.js'
import { avroContainer } from '../../../lib/connectors/bucketing-file-sink/avro/index.js'
import { parquet } from '../../../lib/connectors/bucketing-file-sink/parquet/index.js'

/** Every record of an Avro container file, read with avsc's own file decoder (an independent reader). */
export function readAvro(path: string): Promise<Record<string, unknown>[]> {
  return decodeAvro(readFileSync(path))
}

/** Every record of an Avro container file's bytes, decoded by avsc's container decoder. */
export function decodeAvro(bytes: Buffer): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const records: Record<string, unknown>[] = []
    const decoder = new avsc.streams.BlockDecoder()
    decoder
      .on('data', (record: unknown) =>
        records.push(typeof record === 'object' && record !== null ? { ...record } : { value: record }),
      )
      .on('end', () => resolve(records))
      .on('error', reject)
    decoder.end(bytes)
  })
}

/** Every row of a Parquet file, and its row-group count, read with hyparquet (an independent reader). */
export async function readParquet(path: string): Promise<{ rows: Record<string, unknown>[]; rowGroups: number }> {
  return decodeParquet(readFileSync(path))
}

/** Every row of a Parquet file's bytes, and its row-group count, read with hyparquet. */
export async function decodeParquet(bytes: Buffer): Promise<{ rows: Record<string, unknown>[]; rowGroups: number }> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  const rows = (await parquetReadObjects({ file, utf8: false })) as Record<string, unknown>[]
  return { rows, rowGroups: parquetMetadata(file).row_groups.length }
}

/** The records of every finished file under `dir` (paths relative to it), in file order. */
export async function readAll(
  dir: string,
  files: readonly string[],
  read: (path: string) => Promise<Record<string, unknown>[]>,
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = []
  for (const file of files) out.push(...(await read(join(dir, file))))
  return out
}

/** The count job's output lines, each as the one-column record `{ line }` a Parquet file holds. */
export function lineRecords(encoder: BlockEncoder<{ line: string }>): BlockEncoder<string> {
  return {
    name: encoder.name,
    bulk: true,
    blocks: true,
    check: (line) => encoder.check({ line }),
    reason: (line) => encoder.reason({ line }),
    open(output) {
      const writer = encoder.open(output)
      return {
        writeBlock: (lines, bytes) =>
          writer.writeBlock(
            lines.map((line) => ({ line })),
            bytes,
          ),
        end: () => writer.end(),
      }
    },
    mergeParts: (sources, output) => encoder.mergeParts!(sources, output),
  }
}

export interface Format {
  readonly name: string
  readonly encoder: () => BlockEncoder<string>
  /** The count job's lines in one file's bytes. */
  readonly decode: (bytes: Buffer) => Promise<string[]>
}

export const FORMATS: readonly Format[] = [
  {
    name: 'avro',
    encoder: () => avroContainer<string>('"string"', { codec: 'deflate' }),
    decode: async (bytes) => (await decodeAvro(bytes)).map((record) => String(record.value)),
  },
  {
    name: 'parquet',
    encoder: () => lineRecords(parquet([{ name: 'line', type: 'STRING' }], { rowGroupBytes: 512 })),
    decode: async (bytes) => (await decodeParquet(bytes)).rows.map((row) => row.line as string),
  },
]

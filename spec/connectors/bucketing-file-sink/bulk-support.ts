import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import avsc from 'avsc'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'

/** Every record of an Avro container file, read with avsc's own file decoder (an independent reader). */
export function readAvro(path: string): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const records: Record<string, unknown>[] = []
    avsc
      .createFileDecoder(path)
      .on('data', (record: Record<string, unknown>) => records.push({ ...record }))
      .on('end', () => resolve(records))
      .on('error', reject)
  })
}

/** Every row of a Parquet file, and its row-group count, read with hyparquet (an independent reader). */
export async function readParquet(path: string): Promise<{ rows: Record<string, unknown>[]; rowGroups: number }> {
  const bytes = readFileSync(path)
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

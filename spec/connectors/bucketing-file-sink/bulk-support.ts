import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import avsc from 'avsc'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'
import * as assert from 'uvu/assert'
import {
  type BlockEncoder,
  type BucketingFileSinkOptions,
  textLines,
} from '../../../lib/connectors/bucketing-file-sink/index.js'
import { avroContainer } from '../../../lib/connectors/bucketing-file-sink/avro/index.js'
import { parquet } from '../../../lib/connectors/bucketing-file-sink/parquet/index.js'
import { checkCounts } from '../../support/fault-checks.js'
import { describePlan, type FaultPlan, FaultLog } from '../../support/fault-injection.js'
import { runSchedule } from '../../support/fault-jobs.js'
import { FaultyBucketingSink } from '../hdfs/faulty-bucketing-sink.js'
import { filesUnder, finishedFiles } from './support.js'

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

/** Text lines as a {@link Format}: the row encoder, its files read as UTF-8 lines. */
export const TEXT_LINES: Format = {
  name: 'text',
  encoder: textLines as unknown as Format['encoder'],
  decode: async (bytes) => {
    const text = bytes.toString('utf8')
    return text === '' ? [] : text.replace(/\n$/, '').split('\n')
  },
}

/**
 * Runs the seeded schedule `plan` with a {@link FaultyBucketingSink} writing `format` under `basePath`
 * on the local disk (with `options` besides the encoder), then asserts that no hidden file is left and
 * that the finished files, decoded, hold the keyed count exactly once. Returns what the run did.
 */
export async function checkFormatSchedule(
  plan: FaultPlan,
  basePath: string,
  format: Format,
  options: Omit<BucketingFileSinkOptions<string>, 'encoder'>,
  spec: string,
): Promise<{ restarts: number; faults: number }> {
  const log = new FaultLog(plan)
  const sink = new FaultyBucketingSink(basePath, { ...options, encoder: format.encoder() }, log)
  const run = await runSchedule(plan, log, { sink, timeoutMs: 60_000 })
  const hidden = filesUnder(basePath).filter((f) => f.slice(f.lastIndexOf('/') + 1).startsWith('.'))
  assert.equal(hidden, [], `no hidden file is left\n${describePlan(plan, spec)}`)
  const lines: string[] = []
  for (const file of finishedFiles(basePath)) lines.push(...(await format.decode(readFileSync(`${basePath}/${file}`))))
  assert.equal(checkCounts(lines, plan.records, plan.keys, 'exactly-once').problems, [], describePlan(plan, spec))
  return { restarts: run.restarts, faults: log.fired.size }
}

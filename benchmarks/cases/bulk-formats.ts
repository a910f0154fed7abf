// Cases avro-encode and parquet-encode — the encoding rate (records/s) of the bucketing file sink's bulk
// formats, against the encoding library alone writing the same records.
// avro-encode: n order records ({ id: long, customer: string, total: double, paid: boolean }) from a
// bounded sequence through a map into bucketingFileSink with avroContainer(schema) on the local disk
// (parallelism 1, no checkpoints: one container file, fsynced and renamed at the end of input), against
// avsc's own container file encoder (createFileEncoder, 'null' codec) writing the same records to a file.
// parquet-encode: the same records into bucketingFileSink with parquet(columns) (SNAPPY, row groups of
// 4 MiB of records), against hyparquet-writer alone writing the same columns (parquetWriteBuffer,
// SNAPPY, row groups of 100,000 rows) to a file. Each timed from the start to the file being complete;
// the records in each file are counted afterwards (Avro decoded with avsc, Parquet from its footer).
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import avsc from 'avsc'
import { parquetMetadata } from 'hyparquet'
import { parquetWriteBuffer } from 'hyparquet-writer'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { map } from '../../lib/index.js'
import { avroContainer } from '../../lib/connectors/bucketing-file-sink/avro/index.js'
import {
  basePathBucketAssigner,
  type BlockEncoder,
  bucketingFileSink,
} from '../../lib/connectors/bucketing-file-sink/index.js'
import { type ParquetColumn, parquet } from '../../lib/connectors/bucketing-file-sink/parquet/index.js'
import { createLogger } from '../../lib/logging.js'
import { tempDir } from '../../spec/support/temp-dir.js'
import { type BenchCase, type RunResult, ratioTargets, hotPhase } from '../measure.js'

interface Order {
  id: number
  customer: string
  total: number
  paid: boolean
}

const order = (i: number): Order => ({ id: i, customer: `customer-${i % 1000}`, total: i * 1.25, paid: i % 2 === 0 })

const SCHEMA: avsc.Schema = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'customer', type: 'string' },
    { name: 'total', type: 'double' },
    { name: 'paid', type: 'boolean' },
  ],
}
const COLUMNS: ParquetColumn[] = [
  { name: 'id', type: 'INT64' },
  { name: 'customer', type: 'STRING' },
  { name: 'total', type: 'DOUBLE' },
  { name: 'paid', type: 'BOOLEAN' },
]
const silent = createLogger({ level: 'silent' })

function countAvro(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let count = 0
    avsc
      .createFileDecoder(path)
      .on('data', () => count++)
      .on('end', () => resolve(count))
      .on('error', reject)
  })
}

function countParquet(path: string): number {
  const bytes = readFileSync(path)
  return Number(parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).num_rows)
}

async function engine(n: number, encoder: BlockEncoder<Order>, count: (path: string) => Promise<number> | number) {
  const dir = tempDir('sluice-bench-bulk-')
  try {
    const env = StreamEnvironment.create({ parallelism: 1, logLevel: 'silent' })
    env
      .fromSequence(1, n, { uid: 'numbers' })
      .pipe(map(order, { uid: 'orders' }))
      .sinkTo(
        bucketingFileSink<Order>(dir.path, { encoder, bucketAssigner: basePathBucketAssigner(), logger: silent }),
        {
          uid: 'files',
        },
      )
    const phase = hotPhase()
    await env.execute('bench: bulk format')
    const time = phase.end()
    const records = await count(join(dir.path, 'part-0-0'))
    return { records: n, output: records, checksum: records, ...time }
  } finally {
    dir.remove()
  }
}

async function rawAvro(n: number): Promise<RunResult> {
  const dir = tempDir('sluice-bench-avsc-')
  try {
    const path = join(dir.path, 'orders.avro')
    const phase = hotPhase()
    const encoder = avsc.createFileEncoder(path, avsc.Type.forSchema(SCHEMA), { codec: 'null' })
    const finished = new Promise<void>((resolve, reject) => encoder.on('finish', resolve).on('error', reject))
    for (let i = 1; i <= n; i++) {
      if (!encoder.write(order(i))) await new Promise((resolve) => encoder.once('drain', resolve))
    }
    encoder.end()
    await finished
    // the file stream closes after the encoder finishes
    await new Promise((resolve) => setImmediate(resolve))
    const time = phase.end()
    const records = await countAvro(path)
    return { records: n, output: records, checksum: records, ...time }
  } finally {
    dir.remove()
  }
}

async function rawParquet(n: number): Promise<RunResult> {
  const dir = tempDir('sluice-bench-hyparquet-')
  try {
    const path = join(dir.path, 'orders.parquet')
    const phase = hotPhase()
    const id = new Array<bigint>(n)
    const customer = new Array<string>(n)
    const total = new Array<number>(n)
    const paid = new Array<boolean>(n)
    for (let i = 0; i < n; i++) {
      const o = order(i + 1)
      id[i] = BigInt(o.id)
      customer[i] = o.customer
      total[i] = o.total
      paid[i] = o.paid
    }
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: id, type: 'INT64', nullable: false },
        { name: 'customer', data: customer, type: 'STRING', nullable: false },
        { name: 'total', data: total, type: 'DOUBLE', nullable: false },
        { name: 'paid', data: paid, type: 'BOOLEAN', nullable: false },
      ],
      rowGroupSize: 100_000,
    })
    await writeFile(path, new Uint8Array(buffer))
    const time = phase.end()
    const records = countParquet(path)
    return { records: n, output: records, checksum: records, ...time }
  } finally {
    dir.remove()
  }
}

/** A case: the sink writing `n` orders with `encoder` against `baseline`, the library writing them alone. */
function encodeCase(spec: {
  id: string
  title: string
  format: string
  encoder: () => BlockEncoder<Order>
  count: (path: string) => Promise<number> | number
  baseline: { name: string; run: (n: number) => Promise<RunResult> }
  note: string
}): BenchCase {
  return {
    id: spec.id,
    title: spec.title,
    prepare({ quick }) {
      const n = quick ? 200_000 : 1_000_000
      return {
        reps: 3,
        warmup: 1,
        contenders: [
          {
            name: `engine: sequence → map → bucketingFileSink(${spec.format})`,
            role: 'engine',
            run: () => engine(n, spec.encoder(), spec.count),
          },
          { name: spec.baseline.name, role: 'baseline', run: () => spec.baseline.run(n) },
        ],
        targets: (s) => ratioTargets(s, `${spec.format === 'avroContainer' ? 'avro' : 'parquet'} encoding`, 0.8),
        notes: [`${n.toLocaleString('en')} records of 4 fields into ${spec.note}.`],
      }
    },
  }
}

export const avroEncodeCase = encodeCase({
  id: 'avro-encode',
  title: 'Avro container files: bucketingFileSink(avroContainer) vs avsc createFileEncoder, same records',
  format: 'avroContainer',
  encoder: () => avroContainer<Order>(SCHEMA),
  count: countAvro,
  baseline: { name: 'avsc: createFileEncoder', run: rawAvro },
  note: "one container file ('null' codec)",
})

export const parquetEncodeCase = encodeCase({
  id: 'parquet-encode',
  title: 'Parquet files: bucketingFileSink(parquet) vs hyparquet-writer alone, same records',
  format: 'parquet',
  encoder: () => parquet<Order>(COLUMNS),
  count: countParquet,
  baseline: { name: 'hyparquet-writer: parquetWriteBuffer', run: rawParquet },
  note: 'one Parquet file (SNAPPY)',
})

import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { deflateRaw } from 'node:zlib'
import type { Schema, Type } from 'avsc'
import { ConfigError, describeValue } from '../../../errors.js'
import { optionalDependency } from '../../../util/optional-dependency.js'
import type { BlockEncoder, BlockWriter } from '../encoders/block-encoder.js'
import type { PartOutput } from '../encoders/encoder.js'
import type { AvroFormat } from './avro-format.js'
import { mergeContainerFiles } from './container-merge.js'

const avsc = await optionalDependency<typeof import('avsc')>('avsc')
const deflate = promisify(deflateRaw)

/** Options of {@link avroContainer}. */
export interface AvroContainerOptions {
  /** Block compression: 'null' (none, the default) or 'deflate' (raw RFC 1951, as the Avro spec says). */
  codec?: 'null' | 'deflate'
  /** zlib level for 'deflate', 0 to 9; default 6. */
  deflateLevel?: number
  /** The 16-byte sync marker of each new file; default 16 random bytes (inject for reproducible files). */
  syncMarker?: () => Uint8Array
}

/** The container file header, as the Avro specification defines it. */
const HEADER_SCHEMA: Schema = {
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
}
const MAGIC = Buffer.from('Obj\x01', 'latin1')

/**
 * Avro object container files (Flink's AvroWriters): every part file is one container file with the
 * writer schema in its header, and each block the sink hands over (up to `writeBufferBytes` of records)
 * becomes one Avro data block, compressed with `codec`. Any Avro reader (avsc's `createFileDecoder`,
 * Java's DataFileReader, Spark, DuckDB) reads a finished part. `schema` is an Avro schema (JSON object
 * or string) or an avsc Type; a record the schema rejects (`Type.isValid`) goes to the dead-letter output
 * with the path of the offending field, and the file stays valid. Needs the optional package `avsc`.
 * Bulk: the sink rolls parts on checkpoints only.
 *
 * @example
 * import { avroContainer } from 'sluice/connectors/bucketing-file-sink/avro'
 * const schema = { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'long' }, { name: 'total', type: 'double' }] }
 * stream.sinkTo(bucketingFileSink('/data/orders', { encoder: avroContainer<Order>(schema, { codec: 'deflate' }), outputFileConfig: { partSuffix: '.avro' } }))
 */
export function avroContainer<T>(schema: Schema | Type | string, options: AvroContainerOptions = {}): BlockEncoder<T> {
  // avsc is CommonJS: Node finds only some of its exports by name, all of them on the default export
  const { Type } = (avsc.get('avroContainer') as unknown as { default: typeof import('avsc') }).default
  if (options === null || typeof options !== 'object')
    throw new ConfigError('bucketingFileSink.encoder.avro', options, 'an options object')
  let type: Type
  try {
    type = Type.isType(schema)
      ? (schema as Type)
      : Type.forSchema(typeof schema === 'string' ? (JSON.parse(schema) as Schema) : (schema as Schema))
  } catch (error) {
    throw new ConfigError('bucketingFileSink.encoder.schema', schema, `an Avro schema (${(error as Error).message})`)
  }
  const codec = options.codec ?? 'null'
  if (codec !== 'null' && codec !== 'deflate')
    throw new ConfigError('bucketingFileSink.encoder.codec', codec, "'null' or 'deflate'")
  const level = options.deflateLevel ?? 6
  if (typeof level !== 'number' || !Number.isInteger(level) || level < 0 || level > 9)
    throw new ConfigError('bucketingFileSink.encoder.deflateLevel', level, 'a whole number from 0 to 9')
  const syncMarker = options.syncMarker ?? (() => randomBytes(16))
  if (typeof syncMarker !== 'function')
    throw new ConfigError('bucketingFileSink.encoder.syncMarker', syncMarker, 'a function () => 16 bytes')
  const headerType = Type.forSchema(HEADER_SCHEMA)
  const longType = Type.forSchema('long')
  const meta = {
    'avro.schema': Buffer.from(JSON.stringify(type.schema({ exportAttrs: true }))),
    'avro.codec': Buffer.from(codec),
  }
  const format: AvroFormat = {
    type,
    headerType,
    longType,
    meta,
    level: codec === 'deflate' ? level : -1,
    header: (sync) => headerType.toBuffer({ magic: MAGIC, meta, sync }),
    long: (n) => longType.toBuffer(n),
    syncMarker,
    recordBytes: 64,
  }
  return {
    name: 'avro',
    bulk: true,
    blocks: true,
    check: (value: T) => (type.isValid(value) ? format.recordBytes : -1),
    reason: (value: T) => invalidReason(type, value),
    open: (output: PartOutput) => new AvroContainerWriter(format, output),
    mergeParts: (sources, output) => mergeContainerFiles(format, sources, output),
  }
}

/** The paths (`customer.id`) where `value` breaks the schema, and what the schema wants there. */
function invalidReason(type: Type, value: unknown): string {
  const problems: string[] = []
  type.isValid(value, {
    errorHook: (path: string[], found: unknown, expected: Type) => {
      if (problems.length < 3)
        problems.push(
          `${path.length === 0 ? 'the record' : path.join('.')} is ${describeValue(found)}, not ${describeType(expected)}`,
        )
    },
  })
  return problems.length === 0 ? 'not valid for the schema' : problems.join('; ')
}

function describeType(type: Type): string {
  const schema = type.schema()
  return typeof schema === 'string' ? schema : JSON.stringify(schema).slice(0, 120)
}

/** One part's container file: the header with the first block, then one data block per block of records. */
class AvroContainerWriter implements BlockWriter<unknown> {
  private buffer = Buffer.allocUnsafe(64 * 1024)
  private headerWritten = false
  private readonly sync: Buffer

  constructor(
    private readonly format: AvroFormat,
    private readonly output: PartOutput,
  ) {
    const sync = format.syncMarker()
    if (!(sync instanceof Uint8Array) || sync.byteLength !== 16)
      throw new ConfigError('bucketingFileSink.encoder.syncMarker', sync, '16 bytes')
    this.sync = Buffer.from(sync)
  }

  async writeBlock(records: readonly unknown[]): Promise<void> {
    if (records.length === 0) return
    const { type } = this.format
    let position = 0
    for (const record of records) {
      let next = type.encode(record, this.buffer, position)
      while (next < 0) {
        this.grow(this.buffer.length - next)
        next = type.encode(record, this.buffer, position)
      }
      position = next
    }
    this.format.recordBytes = Math.max(1, Math.ceil(position / records.length))
    const plain = this.buffer.subarray(0, position)
    // concat copies: the buffer is reused for the next block
    const data = this.format.level < 0 ? plain : await deflate(plain, { level: this.format.level })
    const head = this.headerWritten ? [] : [this.format.header(this.sync)]
    this.headerWritten = true
    const { long } = this.format
    await this.output.write(Buffer.concat([...head, long(records.length), long(data.length), data, this.sync]))
  }

  async end(): Promise<void> {
    if (!this.headerWritten) {
      this.headerWritten = true
      await this.output.write(this.format.header(this.sync))
    }
    await this.output.end()
  }

  private grow(atLeast: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, atLeast))
    this.buffer.copy(bigger)
    this.buffer = bigger
  }
}

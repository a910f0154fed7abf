import { ConnectorError } from '../../../errors.js'
import { type BlockEncoder, isBlockEncoder } from '../encoders/block-encoder.js'
import type { Encoder, PartOutput } from '../encoders/encoder.js'

/** Writes the records of whole part files, in order, as one part file to `output`, and ends it. */
export type PartMerger = (sources: AsyncIterable<Uint8Array>, output: PartOutput) => Promise<void>

/**
 * How compaction merges the part files of `encoder`, or why it cannot (for the ConfigError):
 * - a row encoder's parts are concatenated, each part's header (a CSV header line) dropped but the
 *   first's; a wrapped encoder's parts (gzip) are unwrapped first and the merged bytes wrapped again,
 *   so the result is one stream with one header, as a part the sink wrote itself;
 * - a block encoder merges its own files (`mergeParts`): Avro copies the data blocks under the new
 *   file's sync marker, Parquet re-encodes the rows into row groups of its `rowGroupBytes`.
 *
 * @example
 * const merge = partMerger(csv({ columns: ['id'], header: true }))
 */
export function partMerger<T>(encoder: Encoder<T> | BlockEncoder<T>): PartMerger | string {
  if (isBlockEncoder<T>(encoder)) {
    const { mergeParts } = encoder
    if (mergeParts === undefined) return `the block encoder ${encoder.name} cannot merge its part files (no mergeParts)`
    return (sources, output) => mergeParts.call(encoder, sources, output)
  }
  const { wrap, unwrap } = encoder
  if (wrap !== undefined && unwrap === undefined)
    return `the encoder ${encoder.name} wraps its output and cannot unwrap it (no unwrap)`
  const header = encoder.header === undefined ? undefined : Buffer.from(encoder.header)
  return async (sources, output) => {
    const out = wrap === undefined ? output : wrap.call(encoder, output)
    let first = true
    for await (const source of sources) {
      let bytes = unwrap === undefined ? source : unwrap.call(encoder, source)
      if (!first && header !== undefined && header.length > 0) bytes = withoutHeader(bytes, header)
      first = false
      if (bytes.byteLength > 0) await out.write(bytes)
    }
    await out.end()
  }
}

function withoutHeader(bytes: Uint8Array, header: Buffer): Uint8Array {
  if (!header.equals(bytes.subarray(0, header.length)))
    throw new ConnectorError(
      'ERR_COMPACTION',
      'bucketingFileSink compaction: a part file does not start with the encoder header',
    )
  return bytes.subarray(header.length)
}

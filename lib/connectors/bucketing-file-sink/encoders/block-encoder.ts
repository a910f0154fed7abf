import type { PartOutput } from './encoder.js'

/**
 * The writer of one part file of a {@link BlockEncoder}: takes the part's records in blocks, in order,
 * and writes the encoded file to its output; `end` writes what it still holds and the file's trailer
 * (a Parquet footer). A block is at most the sink's `writeBufferBytes` of records (as `check` sized
 * them); the writer may hold several blocks before it writes (a Parquet row group), within its own
 * documented bound.
 */
export interface BlockWriter<T> {
  /** `bytes`: what `check` said the records take together. */
  writeBlock(records: readonly T[], bytes: number): Promise<void>
  end(): Promise<void>
}

/**
 * A bulk format that encodes blocks of records rather than one record at a time (Flink's BulkWriter:
 * Avro container files, Parquet). The sink checks each record against the schema as it arrives (`check`,
 * on the hot path: no allocation), holds the records of each part, and hands them to the part's
 * {@link BlockWriter} in blocks. A record `check` refuses goes to the sink's dead-letter output with
 * `reason(record)`, and the part file stays valid. Being bulk, a block encoder requires
 * {@link OnCheckpointRollingPolicy}: a part is readable only once its writer has ended.
 *
 * @example
 * const lengths: BlockEncoder<string> = {
 *   name: 'lengths', bulk: true, blocks: true,
 *   check: (s) => (typeof s === 'string' ? 4 : -1),
 *   reason: () => 'not a string',
 *   open: (output) => ({
 *     writeBlock: (records) => output.write(Uint32Array.from(records, (s) => s.length)),
 *     end: () => output.end(),
 *   }),
 * }
 */
export interface BlockEncoder<T> {
  readonly name: string
  readonly bulk: true
  /** Tells a block encoder from a row {@link Encoder}. */
  readonly blocks: true
  /** About how many bytes `value` takes encoded (what the sink counts as held in memory), or -1 when the schema cannot encode it. */
  check(value: T): number
  /** Why `check` refused `value` (the field and what the schema wants), for the dead letter; credential-free. */
  reason(value: T): string
  /** A writer for one new part file whose bytes go to `output`. */
  open(output: PartOutput): BlockWriter<T>
  /**
   * Writes the records of `sources` (whole part files this encoder wrote, in order) to `output` as one
   * valid part file, and ends it: what compaction needs. Absent when the format cannot be merged.
   */
  mergeParts?(sources: AsyncIterable<Uint8Array>, output: PartOutput): Promise<void>
}

/**
 * True when `encoder` is a {@link BlockEncoder}.
 *
 * @example
 * if (isBlockEncoder(settings.encoder)) settings.encoder.check(value)
 */
export function isBlockEncoder<T>(encoder: unknown): encoder is BlockEncoder<T> {
  const e = encoder as Partial<BlockEncoder<T>> | null
  return (
    typeof e === 'object' &&
    e !== null &&
    e.blocks === true &&
    typeof e.check === 'function' &&
    typeof e.reason === 'function' &&
    typeof e.open === 'function'
  )
}

/**
 * Where an encoder's bytes go: the part file, possibly through a wrapping such as gzip. `end()` writes
 * whatever the wrapping still holds (a gzip trailer); it does not close the file.
 */
export interface PartOutput {
  write(chunk: Uint8Array): Promise<void>
  /** Writes `chunks` in order as one write; optional (the sink concatenates them where it is absent). */
  writev?(chunks: readonly Uint8Array[]): Promise<void>
  end(): Promise<void>
}

/**
 * Turns records into the bytes of a part file (Flink's Encoder for row formats; a `bulk` encoder is
 * Flink's BulkWriter). `encode` runs on every record and must not keep state between records; the sink
 * buffers its output and writes it in large chunks.
 *
 * @example
 * const tsv: Encoder<[string, number]> = { name: 'tsv', bulk: false, encode: ([k, n]) => `${k}\t${n}\n` }
 */
export interface Encoder<T> {
  readonly name: string
  /** One record's bytes, its line end included. Strings are written as UTF-8. */
  encode(value: T): string | Uint8Array
  /** Written once at the start of every part file (a CSV header). */
  readonly header?: string | Uint8Array | undefined
  /**
   * True when a part file is only readable once its output has been ended (compressed or columnar
   * formats): such an encoder requires {@link OnCheckpointRollingPolicy}, as in Flink.
   */
  readonly bulk: boolean
  /** Wraps the part's output (compression); without it, bytes go to the file as they are. */
  wrap?(output: PartOutput): PartOutput
  /** The inverse of `wrap` on a whole part file (decompression): what compaction needs to merge wrapped parts. */
  unwrap?(file: Uint8Array): Uint8Array
}

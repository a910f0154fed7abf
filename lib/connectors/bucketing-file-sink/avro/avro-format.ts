import type { Type } from 'avsc'

/** What the writers of one Avro container encoder share. */
export interface AvroFormat {
  readonly type: Type
  readonly headerType: Type
  readonly longType: Type
  /** The header's metadata: the schema and the codec, as every part of this encoder has them. */
  readonly meta: Readonly<Record<string, Buffer>>
  /** The deflate level, or -1 for the 'null' codec. */
  readonly level: number
  header(sync: Buffer): Buffer
  long(n: number): Buffer
  readonly syncMarker: () => Uint8Array
  /** Average encoded record size of the last block written: what `check` reports a record holds. */
  recordBytes: number
}

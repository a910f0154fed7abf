import { ConnectorError } from '../../../errors.js'
import type { PartOutput } from '../encoders/encoder.js'
import type { AvroFormat } from './avro-format.js'

/**
 * Merges Avro container files this encoder wrote into one (compaction), without decoding a record:
 * the new file gets one header and its own sync marker, and each source's data blocks are copied as
 * they are (count, size, compressed bytes), each followed by the new marker, as the Avro specification
 * lays a container file out. A source whose schema or codec differ from the encoder's (parts held
 * across a change of schema) is refused with ConnectorError 'ERR_COMPACTION' rather than merged into
 * an unreadable file.
 *
 * @example
 * await mergeContainerFiles(format, readParts(held), output)
 */
export async function mergeContainerFiles(
  format: AvroFormat,
  sources: AsyncIterable<Uint8Array>,
  output: PartOutput,
): Promise<void> {
  const sync = Buffer.from(format.syncMarker())
  await output.write(format.header(sync))
  for await (const source of sources) {
    const file = Buffer.from(source.buffer, source.byteOffset, source.byteLength)
    const { value: header, offset: start } = format.headerType.decode(file, 0) as {
      value: { magic: Buffer; meta: Record<string, Buffer>; sync: Buffer } | undefined
      offset: number
    }
    if (header === undefined || start < 0) refuse('a part file has no complete Avro header')
    for (const key of ['avro.schema', 'avro.codec']) {
      if (!header.meta[key]?.equals(format.meta[key]!)) refuse(`a part file's ${key} differs from the encoder's`)
    }
    let position = start
    while (position < file.length) {
      const count = format.longType.decode(file, position) as { value: number; offset: number }
      const size = format.longType.decode(file, count.offset) as { value: number; offset: number }
      const end = size.offset + size.value
      if (
        count.offset < 0 ||
        size.offset < 0 ||
        end + 16 > file.length ||
        !header.sync.equals(file.subarray(end, end + 16))
      )
        refuse('a part file has a truncated or corrupt data block')
      await output.write(Buffer.concat([file.subarray(position, end), sync]))
      position = end + 16
    }
  }
  await output.end()
}

function refuse(why: string): never {
  throw new ConnectorError('ERR_COMPACTION', `bucketingFileSink compaction (avro): ${why}`)
}

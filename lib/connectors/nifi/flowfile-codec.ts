import { crc32 } from 'node:zlib'

/** One FlowFile as site-to-site carries it (Flink's NiFiDataPacket): string attributes and bytes. */
export interface FlowFile {
  readonly attributes: Readonly<Record<string, string>>
  readonly content: Buffer
}

/** NiFi's StandardFlowFileCodec refuses more attributes than this (a corrupt count would exhaust memory). */
export const MAX_ATTRIBUTES = 25_000

/**
 * Encodes FlowFiles as NiFi's site-to-site `StandardFlowFileCodec` writes them, one after the other:
 * int32 attribute count, then per attribute int32 length + UTF-8 key and int32 length + UTF-8 value,
 * then int64 content length and the content. All integers big-endian (Java's DataOutputStream). The
 * HTTP transport sends the packets back to back; the end of the body ends the transaction's data.
 *
 * @example
 * const body = encodeFlowFiles([{ attributes: { filename: 'a.txt' }, content: Buffer.from('hi') }])
 */
export function encodeFlowFiles(flowFiles: readonly FlowFile[]): Buffer {
  const parts: Buffer[] = []
  for (const f of flowFiles) encodeFlowFileInto(f, parts)
  return Buffer.concat(parts)
}

/**
 * Appends the encoding of one FlowFile to `parts` and returns its length in bytes.
 *
 * @example
 * const parts: Buffer[] = []; encodeFlowFileInto({ attributes: {}, content: Buffer.alloc(0) }, parts) // 12
 */
export function encodeFlowFileInto(flowFile: FlowFile, parts: Buffer[]): number {
  const keys = Object.keys(flowFile.attributes)
  const strings: Buffer[] = []
  let size = 4 + 8
  for (const key of keys) {
    const k = Buffer.from(key, 'utf8')
    const v = Buffer.from(flowFile.attributes[key]!, 'utf8')
    strings.push(k, v)
    size += 8 + k.length + v.length
  }
  const head = Buffer.allocUnsafe(size)
  let at = head.writeInt32BE(keys.length, 0)
  for (const s of strings) {
    at = head.writeInt32BE(s.length, at)
    at += s.copy(head, at)
  }
  head.writeBigInt64BE(BigInt(flowFile.content.length), at)
  parts.push(head, flowFile.content)
  return size + flowFile.content.length
}

/** What {@link decodeFlowFiles} made of a body: the FlowFiles before any damage, and the damage. */
export interface DecodedFlowFiles {
  readonly flowFiles: FlowFile[]
  /** Why the rest of the body could not be decoded (truncated, an absurd count or length). */
  readonly error?: string
  /** The bytes from the first FlowFile that could not be decoded to the end. */
  readonly rest?: Buffer
}

/**
 * Decodes a site-to-site body (see {@link encodeFlowFiles}). Stops at the first malformed FlowFile and
 * returns those before it with the reason, so the caller can dead-letter the rest.
 *
 * @example
 * decodeFlowFiles(encodeFlowFiles([{ attributes: { uuid: 'u1' }, content: Buffer.from('x') }])).flowFiles[0].attributes.uuid // 'u1'
 */
export function decodeFlowFiles(body: Buffer): DecodedFlowFiles {
  const flowFiles: FlowFile[] = []
  let at = 0
  while (at < body.length) {
    const start = at
    const fail = (error: string): DecodedFlowFiles => ({ flowFiles, error, rest: body.subarray(start) })
    if (body.length - at < 4) return fail(`truncated attribute count at byte ${at}`)
    const count = body.readInt32BE(at)
    at += 4
    if (count < 0 || count > MAX_ATTRIBUTES) return fail(`attribute count ${count} at byte ${start} is out of range`)
    const attributes: Record<string, string> = {}
    let key = ''
    for (let i = 0; i < count * 2; i++) {
      if (body.length - at < 4) return fail(`truncated attribute length at byte ${at}`)
      const length = body.readInt32BE(at)
      at += 4
      if (length < 0 || length > body.length - at)
        return fail(`attribute length ${length} at byte ${at - 4} exceeds the body`)
      const text = body.toString('utf8', at, at + length)
      at += length
      if (i % 2 === 0) key = text
      else attributes[key] = text
    }
    if (body.length - at < 8) return fail(`truncated content length at byte ${at}`)
    const size = body.readBigInt64BE(at)
    at += 8
    if (size < 0n || size > BigInt(body.length - at))
      return fail(`content length ${size} at byte ${at - 8} exceeds the body`)
    const content = Buffer.from(body.subarray(at, at + Number(size)))
    at += Number(size)
    flowFiles.push({ attributes, content })
  }
  return { flowFiles }
}

/**
 * The CRC32 of the bytes, as site-to-site sends it: the unsigned value in decimal (Java's
 * `String.valueOf(CRC32.getValue())`).
 *
 * @example
 * siteToSiteChecksum(Buffer.from('abc')) // '891568578'
 */
export function siteToSiteChecksum(bytes: Buffer): string {
  return String(crc32(bytes))
}

import { createHash } from 'node:crypto'

/** The first bytes of a record aggregated by the Kinesis Producer Library (KPL). */
const MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2])
const DIGEST_BYTES = 16

/** One user record inside a KPL-aggregated Kinesis record. */
export interface UserRecord {
  readonly partitionKey: string
  readonly explicitHashKey: string | undefined
  readonly data: Buffer
}

/**
 * The user records of a KPL-aggregated record (the KPL's aggregation format: 4 magic bytes, a protobuf
 * `AggregatedRecord` — partition key table, explicit hash key table, records — and the MD5 of the
 * protobuf). Returns undefined for a record that is not aggregated, or whose digest does not match
 * (then it is an ordinary record that happens to start with the magic bytes, as the KCL treats it).
 *
 * @example
 * const users = deaggregate(record.Data) ?? [{ partitionKey: record.PartitionKey, data: record.Data }]
 */
export function deaggregate(data: Uint8Array): UserRecord[] | undefined {
  if (data.length < MAGIC.length + DIGEST_BYTES || !MAGIC.equals(data.subarray(0, MAGIC.length))) return undefined
  const body = Buffer.from(data.buffer, data.byteOffset + MAGIC.length, data.length - MAGIC.length - DIGEST_BYTES)
  const digest = data.subarray(data.length - DIGEST_BYTES)
  if (!createHash('md5').update(body).digest().equals(digest)) return undefined
  try {
    return decodeAggregatedRecord(body)
  } catch {
    return undefined
  }
}

/**
 * Encodes user records in the KPL aggregation format (what the KPL sends as one Kinesis record).
 *
 * @example
 * const data = aggregate([{ partitionKey: 'a', data: Buffer.from('1') }, { partitionKey: 'b', data: Buffer.from('2') }])
 */
export function aggregate(
  records: ReadonlyArray<{ partitionKey: string; explicitHashKey?: string; data: Uint8Array }>,
): Buffer {
  const keys: string[] = []
  const hashKeys: string[] = []
  const index = (table: string[], value: string): number => {
    const i = table.indexOf(value)
    if (i >= 0) return i
    table.push(value)
    return table.length - 1
  }
  const parts: Buffer[] = []
  const entries = records.map((r) => {
    const fields: Buffer[] = [varintField(1, index(keys, r.partitionKey))]
    if (r.explicitHashKey !== undefined) fields.push(varintField(2, index(hashKeys, r.explicitHashKey)))
    fields.push(bytesField(3, Buffer.from(r.data)))
    return Buffer.concat(fields)
  })
  for (const k of keys) parts.push(bytesField(1, Buffer.from(k, 'utf8')))
  for (const h of hashKeys) parts.push(bytesField(2, Buffer.from(h, 'utf8')))
  for (const e of entries) parts.push(bytesField(3, e))
  const body = Buffer.concat(parts)
  return Buffer.concat([MAGIC, body, createHash('md5').update(body).digest()])
}

function decodeAggregatedRecord(body: Buffer): UserRecord[] {
  const keys: string[] = []
  const hashKeys: string[] = []
  const raw: Array<{ key: number; hashKey: number | undefined; data: Buffer }> = []
  for (const field of fields(body)) {
    if (field.wire !== 2) continue
    if (field.number === 1) keys.push(field.bytes!.toString('utf8'))
    else if (field.number === 2) hashKeys.push(field.bytes!.toString('utf8'))
    else if (field.number === 3) {
      let key: number | undefined
      let hashKey: number | undefined
      let data: Buffer | undefined
      for (const f of fields(field.bytes!)) {
        if (f.number === 1 && f.wire === 0) key = f.value
        else if (f.number === 2 && f.wire === 0) hashKey = f.value
        else if (f.number === 3 && f.wire === 2) data = f.bytes
      }
      if (key === undefined || data === undefined)
        throw new Error('aggregated record without partition key index or data')
      raw.push({ key, hashKey, data })
    }
  }
  return raw.map((r) => {
    const partitionKey = keys[r.key]
    if (partitionKey === undefined) throw new Error(`partition key index ${r.key} out of range`)
    return { partitionKey, explicitHashKey: r.hashKey === undefined ? undefined : hashKeys[r.hashKey], data: r.data }
  })
}

interface Field {
  readonly number: number
  readonly wire: number
  readonly value?: number
  readonly bytes?: Buffer
}

/** The fields of a protobuf message: varints and length-delimited ones decoded, fixed ones skipped. */
function* fields(buffer: Buffer): Generator<Field> {
  let at = 0
  const varint = (): number => {
    let result = 0
    let shift = 0
    for (;;) {
      if (at >= buffer.length) throw new Error('truncated varint')
      const byte = buffer[at++]!
      result += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) return result
      shift += 7
      if (shift > 63) throw new Error('varint too long')
    }
  }
  while (at < buffer.length) {
    const tag = varint()
    const number = Math.floor(tag / 8)
    const wire = tag & 7
    if (wire === 0) yield { number, wire, value: varint() }
    else if (wire === 2) {
      const length = varint()
      if (at + length > buffer.length) throw new Error('truncated field')
      yield { number, wire, bytes: buffer.subarray(at, at + length) }
      at += length
    } else if (wire === 1) at += 8
    else if (wire === 5) at += 4
    else throw new Error(`unsupported wire type ${wire}`)
  }
}

function varintBytes(value: number): Buffer {
  const bytes: number[] = []
  let v = value
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  bytes.push(v)
  return Buffer.from(bytes)
}

function varintField(number: number, value: number): Buffer {
  return Buffer.concat([varintBytes(number * 8), varintBytes(value)])
}

function bytesField(number: number, bytes: Buffer): Buffer {
  return Buffer.concat([varintBytes(number * 8 + 2), varintBytes(bytes.length), bytes])
}

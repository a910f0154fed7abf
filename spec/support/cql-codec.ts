/**
 * The notations of the CQL native protocol v4 (native_protocol_v4.spec, section 3) that a test server
 * reads and writes: [int], [long], [short], [string], [long string], [bytes], [short bytes], [value]
 * (with -1 null and -2 unset), [string map], [string list], [option] types, and the values of the
 * column types the sink's tests use.
 */

/** The column types the test server stores (native_protocol_v4.spec 6.1 "Options"). */
export type CqlType =
  | 'int'
  | 'bigint'
  | 'counter'
  | 'text'
  | 'boolean'
  | 'double'
  | 'blob'
  | 'timestamp'
  | 'uuid'
  | 'inet'

/** A value bound with the `unset` marker (-2): the column keeps what it had. */
export const UNSET: unique symbol = Symbol('unset')

const TYPE_IDS: Record<CqlType, number> = {
  bigint: 0x0002,
  blob: 0x0003,
  boolean: 0x0004,
  counter: 0x0005,
  double: 0x0007,
  int: 0x0009,
  timestamp: 0x000b,
  uuid: 0x000c,
  text: 0x000d,
  inet: 0x0010,
}

/**
 * Reads the protocol's notations from a frame body, front to back.
 *
 * @example
 * const reader = new CqlReader(body)
 * const query = reader.longString()
 */
export class CqlReader {
  private at = 0

  constructor(private readonly buffer: Buffer) {}

  byte(): number {
    return this.buffer.readUInt8(this.at++)
  }
  short(): number {
    const v = this.buffer.readUInt16BE(this.at)
    this.at += 2
    return v
  }
  int(): number {
    const v = this.buffer.readInt32BE(this.at)
    this.at += 4
    return v
  }
  long(): bigint {
    const v = this.buffer.readBigInt64BE(this.at)
    this.at += 8
    return v
  }
  string(): string {
    const n = this.short()
    return this.take(n).toString('utf8')
  }
  longString(): string {
    const n = this.int()
    return this.take(n).toString('utf8')
  }
  shortBytes(): Buffer {
    return this.take(this.short())
  }
  /** A [value]: the bytes, null (-1) or {@link UNSET} (-2). */
  value(): Buffer | null | typeof UNSET {
    const n = this.int()
    if (n === -1) return null
    if (n === -2) return UNSET
    return this.take(n)
  }
  stringMap(): Record<string, string> {
    const map: Record<string, string> = {}
    for (let n = this.short(); n > 0; n--) map[this.string()] = this.string()
    return map
  }
  stringList(): string[] {
    const list: string[] = []
    for (let n = this.short(); n > 0; n--) list.push(this.string())
    return list
  }
  private take(n: number): Buffer {
    const slice = this.buffer.subarray(this.at, this.at + n)
    this.at += n
    return slice
  }
}

/**
 * Builds a frame body from the protocol's notations.
 *
 * @example
 * const body = new CqlWriter().int(0x1001).string('overloaded').toBuffer()
 */
export class CqlWriter {
  private readonly parts: Buffer[] = []

  byte(v: number): this {
    return this.push(Buffer.of(v))
  }
  short(v: number): this {
    const b = Buffer.alloc(2)
    b.writeUInt16BE(v)
    return this.push(b)
  }
  int(v: number): this {
    const b = Buffer.alloc(4)
    b.writeInt32BE(v)
    return this.push(b)
  }
  string(v: string): this {
    const b = Buffer.from(v, 'utf8')
    return this.short(b.length).push(b)
  }
  shortBytes(v: Buffer): this {
    return this.short(v.length).push(v)
  }
  /** [bytes]: null as length -1. */
  bytes(v: Buffer | null): this {
    if (v === null) return this.int(-1)
    return this.int(v.length).push(v)
  }
  stringMultimap(map: Record<string, string[]>): this {
    this.short(Object.keys(map).length)
    for (const [key, values] of Object.entries(map)) {
      this.string(key).short(values.length)
      for (const v of values) this.string(v)
    }
    return this
  }
  /** An [option] naming a column type; `set<text>` as a set of varchar. */
  type(type: CqlType | 'set<text>'): this {
    if (type === 'set<text>') return this.short(0x0022).short(TYPE_IDS.text)
    return this.short(TYPE_IDS[type])
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts)
  }
  private push(b: Buffer): this {
    this.parts.push(b)
    return this
  }
}

/** Decodes a bound value of a column type (as the node would store it). */
export function decodeValue(type: CqlType, bytes: Buffer | null | typeof UNSET): unknown {
  if (bytes === null || bytes === UNSET) return bytes
  switch (type) {
    case 'int':
      return bytes.readInt32BE(0)
    case 'bigint':
    case 'counter':
      return bytes.readBigInt64BE(0)
    case 'timestamp':
      return new Date(Number(bytes.readBigInt64BE(0)))
    case 'boolean':
      return bytes[0] !== 0
    case 'double':
      return bytes.readDoubleBE(0)
    case 'text':
      return bytes.toString('utf8')
    case 'uuid':
      return bytes.toString('hex')
    case 'inet':
      return [...bytes].join('.')
    case 'blob':
      return Buffer.from(bytes)
  }
}

/** Encodes a stored value of a column type (for rows sent back). */
export function encodeValue(type: CqlType | 'set<text>', value: unknown): Buffer | null {
  if (value === null || value === undefined) return null
  switch (type) {
    case 'int': {
      const b = Buffer.alloc(4)
      b.writeInt32BE(value as number)
      return b
    }
    case 'bigint':
    case 'counter': {
      const b = Buffer.alloc(8)
      b.writeBigInt64BE(BigInt(value as bigint))
      return b
    }
    case 'timestamp': {
      const b = Buffer.alloc(8)
      b.writeBigInt64BE(BigInt((value as Date).getTime()))
      return b
    }
    case 'boolean':
      return Buffer.of(value ? 1 : 0)
    case 'double': {
      const b = Buffer.alloc(8)
      b.writeDoubleBE(value as number)
      return b
    }
    case 'text':
      return Buffer.from(value as string, 'utf8')
    case 'uuid':
      return Buffer.from(value as string, 'hex')
    case 'inet':
      return Buffer.from((value as string).split('.').map(Number))
    case 'blob':
      return value as Buffer
    case 'set<text>': {
      const items = value as string[]
      const w = new CqlWriter().int(items.length)
      for (const item of items) w.bytes(Buffer.from(item, 'utf8'))
      return w.toBuffer()
    }
  }
}

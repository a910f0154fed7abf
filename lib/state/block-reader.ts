import { StateError } from '../errors.js'
import { BlockKind, ColumnKind, Tag, align8 } from './binary-layout.js'

/** The blocks of one key group's section, as the flat rows layout 1 held. */
export interface DecodedSection {
  /** Per state name `[key, value, key, value …]` (with a TTL `[key, value, touchedAt …]`). */
  readonly states: Record<string, unknown[]>
  readonly eventTimers: unknown[][]
  readonly processingTimers: unknown[][]
}

/**
 * Reads the blocks `BlockWriter` wrote for one key group: `length` bytes at `offset` of `data`, whose
 * start must be 8-byte aligned (float64 columns are read in place).
 *
 * @example
 * const { states } = readBlocks(snapshot.data, 0, 64) // { count: ['a', 1, 'b', 2] }
 */
export function readBlocks(data: Uint8Array, offset: number, length: number): DecodedSection {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const section: DecodedSection = { states: {}, eventTimers: [], processingTimers: [] }
  const end = offset + length
  let at = offset
  while (at < end) {
    const kind = bytes[at]!
    const width = bytes[at + 1]!
    const rows = bytes.readUInt32LE(at + 4)
    const nameBytes = bytes.readUInt32LE(at + 8)
    const name = bytes.toString('utf8', at + 12, at + 12 + nameBytes)
    at = align8(at + 12 + nameBytes)
    const flat: unknown[] = new Array(rows * width)
    for (let c = 0; c < width; c++) at = readColumn(bytes, at, rows, width, c, flat)
    if (kind === BlockKind.STATE) section.states[name] = flat
    else if (kind === BlockKind.EVENT_TIMERS) section.eventTimers.push(...pairs(flat))
    else if (kind === BlockKind.PROCESSING_TIMERS) section.processingTimers.push(...pairs(flat))
    else throw new StateError('ERR_STATE_CORRUPT', `keyed snapshot has a block of unknown kind ${kind}`)
  }
  return section
}

/** Column `c` of `rows` rows at `at`, into `flat` (stride `width`); returns where the next column starts. */
function readColumn(bytes: Buffer, at: number, rows: number, width: number, c: number, flat: unknown[]): number {
  const kind = bytes[at]!
  const heapBytes = bytes.readUInt32LE(at + 4)
  at += 8
  if (kind === ColumnKind.NUMBERS) {
    const numbers = new Float64Array(bytes.buffer, bytes.byteOffset + at, rows)
    for (let i = 0; i < rows; i++) flat[i * width + c] = numbers[i]
    return at + rows * 8
  }
  if (kind === ColumnKind.INT32) {
    const ints = new Int32Array(bytes.buffer, bytes.byteOffset + at, rows)
    for (let i = 0; i < rows; i++) flat[i * width + c] = ints[i]
    return at + align8(rows * 4)
  }
  if (kind !== ColumnKind.MIXED)
    throw new StateError('ERR_STATE_CORRUPT', `keyed snapshot has a column of unknown kind ${kind}`)
  const tagsAt = at
  const numbersAt = at + align8(rows)
  const numbers = new Float64Array(bytes.buffer, bytes.byteOffset + numbersAt, rows)
  let heap = numbersAt + rows * 8
  const heapEnd = heap + heapBytes
  for (let i = 0; i < rows; i++) {
    const tag = bytes[tagsAt + i]
    let value: unknown
    switch (tag) {
      case Tag.NUMBER:
        value = numbers[i]
        break
      case Tag.TRUE:
        value = true
        break
      case Tag.FALSE:
        value = false
        break
      case Tag.NULL:
        value = null
        break
      case Tag.STRING:
      case Tag.JSON: {
        const textBytes = bytes.readUInt32LE(heap)
        const text = bytes.toString('utf8', heap + 4, heap + 4 + textBytes)
        heap += 4 + textBytes
        value = tag === Tag.STRING ? text : JSON.parse(text)
        break
      }
      default:
        throw new StateError('ERR_STATE_CORRUPT', `keyed snapshot has a value of unknown tag ${tag}`)
    }
    flat[i * width + c] = value
  }
  if (heap > heapEnd) throw new StateError('ERR_STATE_CORRUPT', 'keyed snapshot has a column longer than recorded')
  return align8(heapEnd)
}

function pairs(flat: unknown[]): unknown[][] {
  const out: unknown[][] = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], flat[i + 1]])
  return out
}

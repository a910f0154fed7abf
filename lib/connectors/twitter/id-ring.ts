import { StateError } from '../../errors.js'

/** X's form of a tweet id (`^[0-9]{1,19}$`, its API's `TweetID`): what an {@link IdRing} can hold. */
const TWEET_ID = /^(?:0|[1-9][0-9]{0,18})$/

/** The low part of an id: its last nine digits (below 2^31, so an Int32Array holds it). */
const LOW_DIGITS = 9
const LOW_SCALE = 1e9
const MAX_DIGITS = 19
const ZERO = 48
const SPACE = 32
const MINUS = 45
const EQUALS = 61
/** A difference between ids small enough to write as one (|difference| < 2^52, exact in a double). */
const MAX_DELTA = 2 ** 52
/** Ids added since the index's base after which it is rebuilt, so that its ints never overflow. */
const REBASE_AFTER = 2 ** 30
const BASE36_DELTA = /^-?[0-9a-z]{1,11}$/
const BASE36_DIGITS = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz', 'latin1')

/**
 * True when `id` is a tweet id as X writes it: 1 to 19 decimal digits, no leading zero (the canonical
 * form, so that two spellings never name one tweet).
 *
 * @example
 * isTweetId('1460323737035677698') // true
 * isTweetId('abc') // false
 */
export function isTweetId(id: string): boolean {
  return TWEET_ID.test(id)
}

/**
 * Tweet ids in the order they were added, oldest forgotten first, with a membership index — built for
 * one id per tweet at stream rates: the ids live as numbers in typed arrays (the high digits and the
 * last nine), so remembering one allocates nothing and the garbage collector never traces them. The
 * ring doubles when full; the index (open addressing, linear probing, Int32Array) holds each id's
 * sequence number and low part, and an entry whose id was forgotten counts as a tombstone until the
 * next rebuild.
 * Ids must pass {@link isTweetId}.
 *
 * @example
 * const ring = new IdRing()
 * ring.add('1460323737035677698') // true: new, sequence number 0
 * ring.add('1460323737035677698') // false: remembered
 * ring.forgetBefore(1) // forgets it
 */
export class IdRing {
  private high = new Float64Array(1024)
  private low = new Int32Array(1024)
  /**
   * Two ints a slot: the id's sequence number − `base` + 1 (0: an empty slot), and its low part, so
   * that a probe compares in the index and reads the ring only on a likely match.
   */
  private index = new Int32Array(2 * 4096)
  /** Slots of the index that are not empty (live ids and tombstones). */
  private usedSlots = 0
  /** The sequence number the index counts from (the oldest id at its last rebuild), keeping its ints small. */
  private base = 0
  private first = 0
  private next = 0
  // the id being looked up or added, split by `split`
  private idHigh = 0
  private idLow = 0

  /** The sequence number of the oldest id remembered. */
  get start(): number {
    return this.first
  }

  /** The sequence number the next id gets. */
  get end(): number {
    return this.next
  }

  get size(): number {
    return this.next - this.first
  }

  /** Remembers `id` as the newest (sequence number `end`); false, and nothing changes, when it is remembered already. */
  add(id: string): boolean {
    this.split(id)
    return this.addSplit()
  }

  /**
   * Remembers the ids of a {@link text} ('delta'), or of plain space-joined decimal ids ('decimal', the
   * form of the first checkpoints; a token that is not a tweet id is skipped there). A delta text that
   * cannot be read throws StateError `ERR_STATE_CORRUPT`.
   */
  addText(text: string, encoding: 'delta' | 'decimal'): void {
    if (text === '') return
    let first = true
    for (const token of text.split(' ')) {
      const whole = encoding === 'decimal' || first || token.startsWith('=')
      const id = whole && token.startsWith('=') ? token.slice(1) : token
      if (whole && isTweetId(id)) this.split(id)
      else if (whole && encoding === 'decimal') continue
      else if (whole || !BASE36_DELTA.test(token))
        throw new StateError('ERR_STATE_CORRUPT', `twitter id text: bad token "${token}"`)
      else this.step(Number.parseInt(token, 36))
      first = false
      this.addSplit()
    }
  }

  /** Forgets the ids numbered below `seq`. */
  forgetBefore(seq: number): void {
    this.first = Math.min(Math.max(this.first, seq), this.next)
  }

  /**
   * The ids numbered `from` (inclusive) to `to` (exclusive) as they were added, compactly: the first in
   * decimal, each next one as its difference from the one before in base 36 (`-` when smaller), an id
   * further than 2^52 from the one before whole, after `=`. X's ids grow by about 2^22 a millisecond, so
   * a difference takes 5 to 7 characters where the id takes 19. The digits are written into one buffer:
   * the text is the only string made. {@link addText} reads it back.
   *
   * @example
   * ring.text(ring.start, ring.end) // '1460323737035677698 2bkqo 1z141z4 -5k'
   */
  text(from: number, to: number): string {
    const start = Math.max(from, this.first)
    if (start >= to) return ''
    const bytes = Buffer.allocUnsafe((to - start) * (MAX_DIGITS + 2))
    const mask = this.high.length - 1
    let length = 0
    let previousHigh = 0
    let previousLow = 0
    for (let seq = start; seq < to; seq++) {
      const high = this.high[seq & mask]!
      const low = this.low[seq & mask]!
      if (seq === start) length = writeId(bytes, length, high, low)
      else {
        bytes[length++] = SPACE
        const highDelta = high - previousHigh
        if (Math.abs(highDelta) >= MAX_DELTA / LOW_SCALE) {
          bytes[length++] = EQUALS
          length = writeId(bytes, length, high, low)
        } else {
          const delta = highDelta * LOW_SCALE + (low - previousLow)
          if (delta < 0) bytes[length++] = MINUS
          length = writeBase36(bytes, length, Math.abs(delta))
        }
      }
      previousHigh = high
      previousLow = low
    }
    return bytes.toString('latin1', 0, length)
  }

  /** Remembers idHigh/idLow as the newest; false when remembered already. */
  private addSplit(): boolean {
    if (this.find() >= 0) return false
    if (this.next - this.first === this.high.length) this.grow()
    const seq = this.next++
    const at = seq & (this.high.length - 1)
    this.high[at] = this.idHigh
    this.low[at] = this.idLow
    if (4 * (this.usedSlots + 1) > this.index.length || seq - this.base >= REBASE_AFTER) this.rebuild()
    else this.insert(seq)
    return true
  }

  /** Moves idHigh/idLow by `delta` (|delta| ≤ MAX_DELTA: every step exact). */
  private step(delta: number): void {
    const lowDelta = delta % LOW_SCALE
    let low = this.idLow + lowDelta
    let high = this.idHigh + (delta - lowDelta) / LOW_SCALE
    if (low < 0) {
      low += LOW_SCALE
      high -= 1
    } else if (low >= LOW_SCALE) {
      low -= LOW_SCALE
      high += 1
    }
    this.idHigh = high
    this.idLow = low
  }

  /** Sets idHigh and idLow from the decimal digits of `id`, without allocating. */
  private split(id: string): void {
    const lowFrom = Math.max(0, id.length - LOW_DIGITS)
    let high = 0
    let low = 0
    for (let i = 0; i < lowFrom; i++) high = high * 10 + (id.charCodeAt(i) - ZERO)
    for (let i = lowFrom; i < id.length; i++) low = low * 10 + (id.charCodeAt(i) - ZERO)
    this.idHigh = high
    this.idLow = low
  }

  /** The first slot of an id's probe sequence. */
  private home(high: number, low: number): number {
    let h = Math.imul(low ^ Math.imul(high | 0, 0x9e3779b1) ^ ((high / 4294967296) | 0), 0x85ebca6b)
    h ^= h >>> 15
    return h & ((this.index.length >> 1) - 1)
  }

  /** The sequence number of idHigh/idLow when remembered, else -1. */
  private find(): number {
    const index = this.index
    const mask = (index.length >> 1) - 1
    const ringMask = this.high.length - 1
    for (let slot = this.home(this.idHigh, this.idLow); ; slot = (slot + 1) & mask) {
      const entry = index[2 * slot]!
      if (entry === 0) return -1
      if (index[2 * slot + 1] !== this.idLow) continue
      const seq = this.base + entry - 1
      if (seq >= this.first && this.high[seq & ringMask] === this.idHigh) return seq
    }
  }

  /** Puts `seq` (whose id is in the ring and not in the index) into the first empty or forgotten slot. */
  private insert(seq: number): void {
    const index = this.index
    const mask = (index.length >> 1) - 1
    const at = seq & (this.high.length - 1)
    const low = this.low[at]!
    for (let slot = this.home(this.high[at]!, low); ; slot = (slot + 1) & mask) {
      const entry = index[2 * slot]!
      if (entry === 0) this.usedSlots++
      else if (this.base + entry - 1 >= this.first) continue
      index[2 * slot] = seq - this.base + 1
      index[2 * slot + 1] = low
      return
    }
  }

  /** A fresh index at most a quarter full, holding the ids still remembered (tombstones dropped). */
  private rebuild(): void {
    let slots = 4096
    while (slots < 4 * (this.next - this.first)) slots *= 2
    this.index = new Int32Array(2 * slots)
    this.usedSlots = 0
    this.base = this.first
    for (let seq = this.first; seq < this.next; seq++) this.insert(seq)
  }

  /** Twice the capacity, the remembered ids moved to their new places. */
  private grow(): void {
    const high = new Float64Array(this.high.length * 2)
    const low = new Int32Array(this.low.length * 2)
    const oldMask = this.high.length - 1
    const newMask = high.length - 1
    for (let seq = this.first; seq < this.next; seq++) {
      high[seq & newMask] = this.high[seq & oldMask]!
      low[seq & newMask] = this.low[seq & oldMask]!
    }
    this.high = high
    this.low = low
  }
}

/** The number of decimal digits of `n` (a whole number, 0 ≤ n < 2^31). */
function digitCount(n: number): number {
  let count = 1
  for (let rest = n; rest >= 10; rest = (rest / 10) | 0) count++
  return count
}

/**
 * Writes `n` (a whole number, 0 ≤ n < 2^31) into `bytes` at `at` as `digits` decimal digits (zero-padded),
 * after the digit `lead` when given; returns the offset after them.
 */
function writeDigits(bytes: Buffer, at: number, n: number, digits: number, lead?: number): number {
  let from = at
  if (lead !== undefined) bytes[from++] = ZERO + lead
  let rest = n
  for (let i = from + digits - 1; i >= from; i--) {
    const tenth = (rest / 10) | 0
    bytes[i] = ZERO + rest - tenth * 10
    rest = tenth
  }
  return from + digits
}

/** Writes the id of `high` and `low` in decimal at `at`; returns the offset after it. */
function writeId(bytes: Buffer, at: number, high: number, low: number): number {
  if (high === 0) return writeDigits(bytes, at, low, digitCount(low))
  // high has at most ten digits: its first one apart, the rest and low fit in 31 bits
  const top = Math.floor(high / LOW_SCALE)
  const rest = high - top * LOW_SCALE
  const end = top > 0 ? writeDigits(bytes, at, rest, LOW_DIGITS, top) : writeDigits(bytes, at, rest, digitCount(rest))
  return writeDigits(bytes, end, low, LOW_DIGITS)
}

/** Writes `n` (a whole number, 0 ≤ n ≤ 2^52) in base 36 at `at`; returns the offset after it. */
function writeBase36(bytes: Buffer, at: number, n: number): number {
  let digits = 1
  for (let power = 36; power <= n; power *= 36) digits++
  let rest = n
  for (let i = at + digits - 1; i >= at; i--) {
    const digit = rest % 36
    bytes[i] = BASE36_DIGITS[digit]!
    rest = (rest - digit) / 36
  }
  return at + digits
}

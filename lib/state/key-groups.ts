import { ConfigError } from '../errors.js'

/**
 * Keys a stream can be partitioned by. Composite keys are written as strings (`${a}|${b}`): a key must
 * compare by value in a `Map`, which objects and arrays do not.
 */
export type Key = string | number | bigint | boolean

/** The default number of key groups, as Flink's default maximum parallelism. */
export const DEFAULT_MAX_PARALLELISM = 128

/**
 * A contiguous range of key groups [start, end] owned by one subtask.
 *
 * @example
 * const range = KeyGroupRange.forSubtask(128, 2, 1) // key groups 64..127
 * range.contains(70) // true
 */
export class KeyGroupRange {
  constructor(
    readonly start: number,
    readonly end: number,
  ) {}

  get size(): number {
    return this.end - this.start + 1
  }

  contains(keyGroup: number): boolean {
    return keyGroup >= this.start && keyGroup <= this.end
  }

  /** The key groups a subtask owns: the same split as Flink's `computeKeyGroupRangeForOperatorIndex`. */
  static forSubtask(maxParallelism: number, parallelism: number, subtask: number): KeyGroupRange {
    const start = Math.ceil((subtask * maxParallelism) / parallelism)
    const end = Math.ceil(((subtask + 1) * maxParallelism) / parallelism) - 1
    return new KeyGroupRange(start, end)
  }
}

/**
 * The subtask that owns a key group; the inverse of {@link KeyGroupRange.forSubtask}.
 *
 * @example
 * subtaskForKeyGroup(128, 2, 70) // 1
 */
export function subtaskForKeyGroup(maxParallelism: number, parallelism: number, keyGroup: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism)
}

/**
 * The key group of a key: a murmur3 finaliser over the key's hash, modulo `maxParallelism`. Stable across
 * processes and versions, because checkpoints store state per key group.
 *
 * @example
 * keyGroupOf('user-1', 128) // a number in 0..127, the same on every run
 */
export function keyGroupOf(key: Key, maxParallelism: number): number {
  const h = fmix32(hashKey(key))
  if (maxParallelism > HALF_WORD) return (h >>> 0) % maxParallelism
  // (h >>> 0) % maxParallelism in int32 arithmetic, by halves: the unsigned hash is above 2^31 for half
  // the keys, and V8 takes % of such a number as a double (a call), which was the costliest line of a
  // keyBy. With maxParallelism ≤ 2^15 no intermediate leaves int32.
  return ((((h >>> 16) % maxParallelism) << 16) + (h & 0xffff)) % maxParallelism
}

/** The largest maxParallelism (Flink's too) for which {@link keyGroupOf} stays in int32 arithmetic. */
const HALF_WORD = 32768

function hashKey(key: Key): number {
  switch (typeof key) {
    case 'number':
      return (key | 0) === key ? key : hashString(String(key))
    case 'string':
      return hashString(key)
    case 'boolean':
      return key ? 1231 : 1237
    case 'bigint':
      return hashString(key.toString())
    default:
      throw new ConfigError('keyBy', key, 'a key selector returning a string, number, bigint or boolean')
  }
}

function hashString(text: string): number {
  let h = 0
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0
  return h
}

function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h
}

/**
 * Checks `maxParallelism` and `parallelism` together.
 *
 * @example
 * validateParallelism(2, 128) // ok; validateParallelism(200, 128) throws ConfigError naming parallelism
 */
export function validateParallelism(parallelism: unknown, maxParallelism: unknown, option = 'parallelism'): void {
  if (!Number.isInteger(maxParallelism) || (maxParallelism as number) < 1 || (maxParallelism as number) > 32768) {
    throw new ConfigError('maxParallelism', maxParallelism, 'a whole number from 1 to 32768')
  }
  if (
    !Number.isInteger(parallelism) ||
    (parallelism as number) < 1 ||
    (parallelism as number) > (maxParallelism as number)
  ) {
    throw new ConfigError(option, parallelism, `a whole number from 1 to maxParallelism (${maxParallelism})`)
  }
}

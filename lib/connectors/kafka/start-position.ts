import type { Admin } from 'kafkajs'
import { ConfigError } from '../../errors.js'

/** Where a partition without a checkpointed offset starts reading (Flink's OffsetsInitializer). */
export type StartPosition =
  | 'earliest'
  | 'latest'
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  /** The group's committed offset; partitions without one start at `fallback` (default 'earliest'). */
  | { readonly kind: 'committed'; readonly fallback?: 'earliest' | 'latest' }
  /** The first record whose timestamp is ≥ `timestamp` (ms); the end of the partition if there is none. */
  | { readonly kind: 'timestamp'; readonly timestamp: number }
  /** Offsets by 'topic:partition'; other partitions start at `fallback` (default 'earliest'). */
  | {
      readonly kind: 'offsets'
      readonly offsets: Readonly<Record<string, number>>
      readonly fallback?: 'earliest' | 'latest'
    }

/**
 * Builders of start positions.
 *
 * @example
 * kafkaSource({ brokers, topics: 'orders', groupId: 'billing', startFrom: StartPositions.committed('latest') })
 */
export const StartPositions = {
  /** The oldest record still in the partition. */
  earliest: (): StartPosition => ({ kind: 'earliest' }),
  /** Only records written after the partition is first read. */
  latest: (): StartPosition => ({ kind: 'latest' }),
  /** The offsets committed to the source's `groupId`, else `fallback`. */
  committed: (fallback: 'earliest' | 'latest' = 'earliest'): StartPosition => ({ kind: 'committed', fallback }),
  /** The first record at or after `timestamp` (ms since the epoch). */
  timestamp: (timestamp: number): StartPosition => ({ kind: 'timestamp', timestamp }),
  /** Given offsets by 'topic:partition', else `fallback`. */
  offsets: (offsets: Record<string, number>, fallback: 'earliest' | 'latest' = 'earliest'): StartPosition => ({
    kind: 'offsets',
    offsets,
    fallback,
  }),
} as const

/** A topic partition. */
export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/**
 * The key of a partition in maps and checkpoints: 'topic:partition'.
 *
 * @example
 * partitionKey('orders', 3) // 'orders:3'
 */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`
}

type Normalized = Exclude<StartPosition, 'earliest' | 'latest'>

/**
 * Checks a start position and turns the string shorthands into objects.
 *
 * @example
 * validateStartPosition('kafkaSource.startFrom', 'latest', undefined) // { kind: 'latest' }
 */
export function validateStartPosition(option: string, position: unknown, groupId: string | undefined): Normalized {
  if (position === 'earliest' || position === 'latest') return { kind: position }
  const p = position as Normalized | undefined
  const expected = "'earliest' | 'latest' | StartPositions.committed() | .timestamp(ms) | .offsets({...})"
  switch (p?.kind) {
    case 'earliest':
    case 'latest':
      return p
    case 'committed':
      if (groupId === undefined)
        throw new ConfigError(`${option}`, position, 'a groupId next to a committed start position')
      if (p.fallback !== undefined && p.fallback !== 'earliest' && p.fallback !== 'latest')
        throw new ConfigError(`${option}.fallback`, p.fallback, "'earliest' | 'latest'")
      return p
    case 'timestamp':
      if (typeof p.timestamp !== 'number' || !Number.isFinite(p.timestamp) || p.timestamp < 0)
        throw new ConfigError(`${option}.timestamp`, p.timestamp, 'ms since the epoch, ≥ 0')
      return p
    case 'offsets':
      if (p.offsets === null || typeof p.offsets !== 'object')
        throw new ConfigError(`${option}.offsets`, p.offsets, "an object of 'topic:partition' → offset")
      for (const [key, offset] of Object.entries(p.offsets)) {
        if (!/^.+:\d+$/.test(key) || !Number.isSafeInteger(offset) || offset < 0)
          throw new ConfigError(`${option}.offsets`, { [key]: offset }, "'topic:partition' keys with whole offsets ≥ 0")
      }
      if (p.fallback !== undefined && p.fallback !== 'earliest' && p.fallback !== 'latest')
        throw new ConfigError(`${option}.fallback`, p.fallback, "'earliest' | 'latest'")
      return p
    default:
      throw new ConfigError(option, position, expected)
  }
}

/**
 * The first offset to read of each partition, by 'topic:partition', asking the brokers (ListOffsets)
 * and the group coordinator (OffsetFetch) as the position needs.
 *
 * @example
 * const starts = await resolveStartOffsets(admin, { kind: 'earliest' }, undefined, [{ topic: 'orders', partition: 0 }])
 */
export async function resolveStartOffsets(
  admin: Admin,
  position: Normalized,
  groupId: string | undefined,
  partitions: readonly TopicPartition[],
): Promise<Map<string, number>> {
  const result = new Map<string, number>()
  const topics = [...new Set(partitions.map((p) => p.topic))]
  const wanted = new Set(partitions.map((p) => partitionKey(p.topic, p.partition)))
  const ends = new Map<string, { low: number; high: number }>()
  const needEnds = async (): Promise<void> => {
    if (ends.size > 0) return
    for (const topic of topics) {
      for (const o of await admin.fetchTopicOffsets(topic))
        ends.set(partitionKey(topic, o.partition), { low: Number(o.low), high: Number(o.high) })
    }
  }
  const fallbackFor = async (key: string, fallback: 'earliest' | 'latest' = 'earliest'): Promise<number> => {
    await needEnds()
    const e = ends.get(key)
    return e === undefined ? 0 : fallback === 'earliest' ? e.low : e.high
  }
  switch (position.kind) {
    case 'earliest':
    case 'latest':
      for (const key of wanted) result.set(key, await fallbackFor(key, position.kind))
      break
    case 'timestamp':
      for (const topic of topics) {
        for (const o of await admin.fetchTopicOffsetsByTimestamp(topic, position.timestamp)) {
          const key = partitionKey(topic, o.partition)
          if (!wanted.has(key)) continue
          // -1: no record at or after the timestamp, so start at the end (as the Java client does).
          result.set(key, Number(o.offset) >= 0 ? Number(o.offset) : await fallbackFor(key, 'latest'))
        }
      }
      break
    case 'committed':
      for (const entry of await admin.fetchOffsets({ groupId: groupId!, topics })) {
        for (const o of entry.partitions) {
          const key = partitionKey(entry.topic, o.partition)
          if (wanted.has(key) && Number(o.offset) >= 0) result.set(key, Number(o.offset))
        }
      }
      for (const key of wanted) if (!result.has(key)) result.set(key, await fallbackFor(key, position.fallback))
      break
    case 'offsets':
      for (const key of wanted) result.set(key, position.offsets[key] ?? (await fallbackFor(key, position.fallback)))
      break
  }
  for (const key of wanted) if (!result.has(key)) result.set(key, await fallbackFor(key, 'earliest'))
  return result
}

/**
 * Where each partition starts when a reader takes it: the checkpoint's offset where there is one;
 * with `groupId` (group mode) the group's committed offset counts too, the newer of the two winning;
 * otherwise `position` — the reader passes `startFrom` for the first assignment of a fresh job (and in
 * group mode), earliest for partitions found later or missing from the checkpoint restored, so no
 * record of a new partition is missed.
 *
 * @example
 * await resolvePartitionStarts(admin, [{ topic: 'orders', partition: 3 }], { restored, position: { kind: 'earliest' } })
 */
export async function resolvePartitionStarts(
  admin: Admin,
  partitions: readonly TopicPartition[],
  options: { restored: ReadonlyMap<string, number>; groupId?: string; position: Normalized; positionGroupId?: string },
): Promise<Map<string, number>> {
  const result = new Map<string, number>()
  const committed = new Map<string, number>()
  if (options.groupId !== undefined) {
    const topics = [...new Set(partitions.map((p) => p.topic))]
    for (const entry of await admin.fetchOffsets({ groupId: options.groupId, topics })) {
      for (const o of entry.partitions)
        if (Number(o.offset) >= 0) committed.set(partitionKey(entry.topic, o.partition), Number(o.offset))
    }
  }
  const unresolved: TopicPartition[] = []
  for (const tp of partitions) {
    const key = partitionKey(tp.topic, tp.partition)
    const candidates = [options.restored.get(key), committed.get(key)].filter((o): o is number => o !== undefined)
    if (candidates.length > 0) result.set(key, Math.max(...candidates))
    else unresolved.push(tp)
  }
  if (unresolved.length > 0)
    for (const [key, offset] of await resolveStartOffsets(admin, options.position, options.positionGroupId, unresolved))
      result.set(key, offset)
  return result
}

import type { StateTtl } from './descriptors.js'
import type { Key, KeyGroupRange } from './key-groups.js'

interface Expiring<V> {
  value: V
  touchedAt: number
}

/**
 * The entries of one state across the key groups a subtask owns: one `Map` per key group, so a snapshot
 * is written per key group and a restore with another parallelism takes whole groups. With a TTL the
 * entries carry the time they were last touched.
 *
 * @example
 * const table = new StateTable<number>(new KeyGroupRange(0, 127), undefined, Date.now)
 * table.put('a', 5, 3); table.get('a', 5) // 3
 */
export class StateTable<V> {
  readonly groups: Map<Key, unknown>[]
  /**
   * Set while a snapshot is being written: key groups marked 1 are not written yet, and the first access
   * to one writes it first (serialise on access: cheaper than copying it), so the snapshot holds the
   * state as it was at the barrier however records interleave with the writing.
   */
  guard: Uint8Array | undefined = undefined
  onGuard: ((index: number) => void) | undefined = undefined

  constructor(readonly range: KeyGroupRange, readonly ttl: StateTtl | undefined, private readonly clock: () => number) {
    this.groups = Array.from({ length: range.size }, () => new Map())
  }

  get(key: Key, keyGroup: number): V | undefined {
    const index = keyGroup - this.range.start
    if (this.guard !== undefined && this.guard[index] === 1) this.onGuard!(index)
    const map = this.groups[index]!
    if (this.ttl === undefined) return map.get(key) as V | undefined
    const entry = map.get(key) as Expiring<V> | undefined
    if (entry === undefined) return undefined
    const now = this.clock()
    if (now - entry.touchedAt >= this.ttl.ttlMs) {
      map.delete(key)
      return this.ttl.returnExpired ? entry.value : undefined
    }
    if (this.ttl.updateOn === 'read-and-write') entry.touchedAt = now
    return entry.value
  }

  put(key: Key, keyGroup: number, value: V): void {
    const index = keyGroup - this.range.start
    if (this.guard !== undefined && this.guard[index] === 1) this.onGuard!(index)
    this.groups[index]!.set(key, this.ttl === undefined ? value : { value, touchedAt: this.clock() })
  }

  remove(key: Key, keyGroup: number): void {
    const index = keyGroup - this.range.start
    if (this.guard !== undefined && this.guard[index] === 1) this.onGuard!(index)
    this.groups[index]!.delete(key)
  }

  /** The raw entries of a key group as stored (with TTL timestamps), for snapshots. */
  rawGroup(keyGroup: number): Map<Key, unknown> {
    return this.groups[keyGroup - this.range.start]!
  }

  /** Puts a stored entry back as it was snapshotted (restore). */
  restoreEntry(key: Key, keyGroup: number, stored: unknown): void {
    this.groups[keyGroup - this.range.start]!.set(key, stored)
  }

  /** The live entries of one key group, without expired ones. */
  *entries(keyGroup: number): IterableIterator<[Key, V]> {
    const index = keyGroup - this.range.start
    if (this.guard !== undefined && this.guard[index] === 1) this.onGuard!(index)
    const map = this.groups[index]
    if (map === undefined) return
    if (this.ttl === undefined) {
      yield* map as Map<Key, V>
      return
    }
    const now = this.clock()
    for (const [key, entry] of map as Map<Key, Expiring<V>>) {
      if (now - entry.touchedAt < this.ttl.ttlMs) yield [key, entry.value]
    }
  }

  /** Every live key, in key-group order. */
  *keys(): IterableIterator<Key> {
    for (let g = this.range.start; g <= this.range.end; g++) for (const [key] of this.entries(g)) yield key
  }

  /** Number of entries held, expired or not. */
  get size(): number {
    let n = 0
    for (const map of this.groups) n += map.size
    return n
  }
}

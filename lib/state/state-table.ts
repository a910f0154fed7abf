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
   * Copy-on-write bookkeeping while a snapshot of this table is written (between the barrier and the
   * last group written): `pending` groups are as they were at the barrier; the first access to one
   * freezes it for the snapshot and gives the live side a shallow copy (`frozen`); object values of such
   * a `shared` group are cloned when read, so in-place changes never reach the snapshot.
   */
  private snapshot: { pending: Uint8Array; frozen: Array<Map<Key, unknown> | undefined>; shared: Uint8Array; own: WeakSet<object> } | undefined = undefined

  constructor(readonly range: KeyGroupRange, readonly ttl: StateTtl | undefined, private readonly clock: () => number) {
    this.groups = Array.from({ length: range.size }, () => new Map())
  }

  get(key: Key, keyGroup: number): V | undefined {
    const index = keyGroup - this.range.start
    if (this.snapshot !== undefined) return this.getShared(key, index)
    const map = this.groups[index]!
    if (this.ttl === undefined) return map.get(key) as V | undefined
    return this.live(map, key, map.get(key) as Expiring<V> | undefined)
  }

  put(key: Key, keyGroup: number, value: V): void {
    const index = keyGroup - this.range.start
    if (this.snapshot !== undefined) this.beforeWrite(index)
    this.groups[index]!.set(key, this.ttl === undefined ? value : { value, touchedAt: this.clock() })
  }

  remove(key: Key, keyGroup: number): void {
    const index = keyGroup - this.range.start
    if (this.snapshot !== undefined) this.beforeWrite(index)
    this.groups[index]!.delete(key)
  }

  /** Starts a snapshot: every group is frozen as it is now, lazily. */
  beginSnapshot(): void {
    const size = this.range.size
    this.snapshot = { pending: new Uint8Array(size).fill(1), frozen: new Array(size), shared: new Uint8Array(size), own: new WeakSet() }
  }

  /** The raw entries of group `index` as of the barrier; after this call the snapshot no longer needs them. */
  takeForSnapshot(index: number): Map<Key, unknown> {
    const snap = this.snapshot!
    if (snap.pending[index] === 1) {
      snap.pending[index] = 0
      return this.groups[index]!
    }
    const frozen = snap.frozen[index]!
    snap.frozen[index] = undefined
    snap.shared[index] = 0
    return frozen
  }

  endSnapshot(): void {
    this.snapshot = undefined
  }

  private beforeWrite(index: number): void {
    const snap = this.snapshot!
    if (snap.pending[index] !== 1) return
    snap.pending[index] = 0
    snap.frozen[index] = this.groups[index]
    this.groups[index] = new Map(this.groups[index])
    snap.shared[index] = 1
  }

  private getShared(key: Key, index: number): V | undefined {
    this.beforeWrite(index)
    const snap = this.snapshot!
    const map = this.groups[index]!
    let stored = map.get(key)
    if (snap.shared[index] === 1 && stored !== null && typeof stored === 'object' && !snap.own.has(stored)) {
      stored = structuredClone(stored)
      snap.own.add(stored as object)
      map.set(key, stored)
    }
    if (this.ttl === undefined) return stored as V | undefined
    return this.live(map, key, stored as Expiring<V> | undefined)
  }

  private live(map: Map<Key, unknown>, key: Key, entry: Expiring<V> | undefined): V | undefined {
    if (entry === undefined) return undefined
    const now = this.clock()
    if (now - entry.touchedAt >= this.ttl!.ttlMs) {
      map.delete(key)
      return this.ttl!.returnExpired ? entry.value : undefined
    }
    if (this.ttl!.updateOn === 'read-and-write') entry.touchedAt = now
    return entry.value
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
    if (this.snapshot !== undefined) this.beforeWrite(index)
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

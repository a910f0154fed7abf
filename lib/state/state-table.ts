import type { StateTtl } from './descriptors.js'
import type { Key, KeyGroupRange } from './key-groups.js'

interface Expiring<V> {
  value: V
  touchedAt: number
}

/** Marks, in a snapshot overlay, a key that had no entry at the barrier. */
const ABSENT = Symbol('absent at the barrier')

/**
 * The entries of one state across the key groups a subtask owns: one `Map` per key group, so a snapshot
 * is written per key group and a restore with another parallelism takes whole groups. With a TTL the
 * entries carry the time they were last touched.
 *
 * @example
 * const table = new StateTable<number>(new KeyGroupRange(0, 127), undefined, Date.now, copyOf(serializer))
 * table.put('a', 5, 3); table.get('a', 5) // 3
 */
export class StateTable<V> {
  readonly groups: Map<Key, unknown>[]
  /**
   * Set while a snapshot is written (Flink's copy-on-write state map, per entry): groups marked 1 are
   * not written yet. The first write of a key in such a group keeps its barrier-time value in the
   * group's overlay; the first read of an object value keeps the original there and gives the live side
   * a clone, so in-place changes never reach the snapshot. The snapshot reads live entries through the
   * overlay, a group at a time, between batches.
   */
  private pending: Uint8Array | undefined = undefined
  private overlays: Array<Map<Key, unknown> | undefined> = []
  /**
   * No TTL and no snapshot running: `get` and `put` are a bare `Map` access. Kept small for V8 to inline
   * them into a keyed operator's record path; the guarded forms hold the rest.
   */
  private plain: boolean
  /** `range.start`, read once per access. */
  private readonly start: number

  /**
   * @param copy the live side's copy of an object value during a snapshot: the state's serializer there
   *   and back (what a restore would give: a `TimeWindow` stays one, a Buffer a Buffer), never a
   *   structured clone, which strips classes of their prototypes.
   */
  constructor(
    readonly range: KeyGroupRange,
    readonly ttl: StateTtl | undefined,
    private readonly clock: () => number,
    private readonly copy: (value: V) => V = structuredClone,
  ) {
    this.groups = Array.from({ length: range.size }, () => new Map())
    this.start = range.start
    this.plain = ttl === undefined
  }

  get(key: Key, keyGroup: number): V | undefined {
    const map = this.groups[keyGroup - this.start]!
    if (this.plain) return map.get(key) as V | undefined
    return this.getGuarded(map, key, keyGroup)
  }

  put(key: Key, keyGroup: number, value: V): void {
    const map = this.groups[keyGroup - this.start]!
    if (this.plain) map.set(key, value)
    else this.putGuarded(map, key, keyGroup, value)
  }

  remove(key: Key, keyGroup: number): void {
    const index = keyGroup - this.start
    const map = this.groups[index]!
    if (this.pending !== undefined && this.pending[index] === 1) this.keepForSnapshot(index, map, key)
    map.delete(key)
  }

  /** `get` with a TTL or during a snapshot. */
  private getGuarded(map: Map<Key, unknown>, key: Key, keyGroup: number): V | undefined {
    const index = keyGroup - this.start
    let stored = map.get(key)
    if (this.pending !== undefined && this.pending[index] === 1 && stored !== null && typeof stored === 'object')
      stored = this.privateCopy(index, map, key, stored)
    if (this.ttl === undefined) return stored as V | undefined
    const entry = stored as Expiring<V> | undefined
    if (entry === undefined) return undefined
    const now = this.clock()
    if (now - entry.touchedAt >= this.ttl.ttlMs) {
      this.remove(key, keyGroup)
      return this.ttl.returnExpired ? entry.value : undefined
    }
    if (this.ttl.updateOn === 'read-and-write') entry.touchedAt = now
    return entry.value
  }

  /** `put` with a TTL or during a snapshot. */
  private putGuarded(map: Map<Key, unknown>, key: Key, keyGroup: number, value: V): void {
    const index = keyGroup - this.start
    if (this.pending !== undefined && this.pending[index] === 1) this.keepForSnapshot(index, map, key)
    map.set(key, this.ttl === undefined ? value : { value, touchedAt: this.clock() })
  }

  /**
   * Starts a snapshot: from now on every group from `firstPending` on (those before it are written)
   * keeps the barrier-time entries it changes in its overlay until it is written.
   */
  beginSnapshot(firstPending = 0): void {
    this.pending = new Uint8Array(this.range.size).fill(1, firstPending)
    this.overlays = new Array(this.range.size)
    this.plain = false
  }

  /**
   * Calls `visit` with every entry of group `index` as it was at the barrier (stored form, then key,
   * as `Map.forEach` passes them, so a group without overlay is visited by the map itself), then
   * releases the group. `forEach`, not an iterator: no pair is allocated per entry.
   */
  forEachForSnapshot(index: number, visit: (stored: unknown, key: Key) => void): void {
    const overlay = this.overlays[index]
    const map = this.groups[index]!
    if (overlay === undefined) map.forEach(visit)
    else {
      map.forEach((live, key) => {
        const old = overlay.get(key)
        if (old === undefined && !overlay.has(key)) visit(live, key)
        else if (old !== ABSENT) visit(old, key)
      })
      overlay.forEach((old, key) => {
        if (old !== ABSENT && !map.has(key)) visit(old, key)
      })
    }
    this.overlays[index] = undefined
    if (this.pending !== undefined) this.pending[index] = 0
  }

  endSnapshot(): void {
    this.pending = undefined
    this.overlays = []
    this.plain = this.ttl === undefined
  }

  private overlay(index: number): Map<Key, unknown> {
    let overlay = this.overlays[index]
    if (overlay === undefined) {
      overlay = new Map()
      this.overlays[index] = overlay
    }
    return overlay
  }

  private keepForSnapshot(index: number, map: Map<Key, unknown>, key: Key): void {
    const overlay = this.overlay(index)
    if (!overlay.has(key)) overlay.set(key, map.has(key) ? map.get(key) : ABSENT)
  }

  /** An object value of a group still to be written: the snapshot keeps the original, the live side a copy. */
  private privateCopy(index: number, map: Map<Key, unknown>, key: Key, stored: object): unknown {
    const overlay = this.overlay(index)
    if (overlay.has(key)) return stored
    overlay.set(key, stored)
    const copy =
      this.ttl === undefined
        ? this.copy(stored as V)
        : { value: this.copy((stored as Expiring<V>).value), touchedAt: (stored as Expiring<V>).touchedAt }
    map.set(key, copy)
    return copy
  }

  /** Puts a stored entry back as it was snapshotted (restore). */
  restoreEntry(key: Key, keyGroup: number, stored: unknown): void {
    this.groups[keyGroup - this.start]!.set(key, stored)
  }

  /** The live entries of one key group, without expired ones. */
  *entries(keyGroup: number): IterableIterator<[Key, V]> {
    const map = this.groups[keyGroup - this.range.start]
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

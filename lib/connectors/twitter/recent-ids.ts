/** Ids emitted together, up to `at`, space-joined: how a checkpoint keeps them (one string per segment). */
export interface IdSegment {
  readonly at: number
  readonly ids: string
}

/** Ids in the open segment after which it is closed even without a checkpoint (memory stays bounded). */
const SEGMENT_LIMIT = 8192

/**
 * The ids of tweets emitted in the recent window: a backfill after a reconnect or a restore sends some
 * tweets again, and those are recognised here. Ids are kept in segments closed at each snapshot
 * (and every 8192 ids); a segment whose newest id is older than `windowMs` is forgotten, since a
 * backfill cannot reach it. A checkpoint holds one string per segment, built once, so frequent
 * checkpoints cost little at high rates. A window of 0 keeps nothing.
 *
 * @example
 * const ids = new RecentIds(6 * 60_000)
 * ids.add('1460323737035677698', now) // true: new
 * ids.add('1460323737035677698', now) // false: emitted already
 */
export class RecentIds {
  private readonly known = new Set<string>()
  private readonly segments: Array<{ readonly at: number; readonly ids: string[]; readonly text: string }> = []
  private open: string[] = []

  constructor(
    private readonly windowMs: number,
    restored: readonly IdSegment[] = [],
  ) {
    if (windowMs === 0) return
    for (const segment of restored) {
      const ids = segment.ids === '' ? [] : segment.ids.split(' ')
      for (const id of ids) this.known.add(id)
      this.segments.push({ at: segment.at, ids, text: segment.ids })
    }
  }

  get size(): number {
    return this.known.size
  }

  /** Remembers `id` as emitted at `at`; false when it was emitted already (a duplicate). */
  add(id: string, at: number): boolean {
    if (this.known.has(id)) return false
    if (this.windowMs > 0) {
      this.known.add(id)
      this.open.push(id)
      if (this.open.length >= SEGMENT_LIMIT) this.close(at)
    }
    return true
  }

  /** The segments of the window, for a checkpoint; older ones are forgotten. */
  snapshot(now: number): IdSegment[] {
    if (this.windowMs === 0) return []
    if (this.open.length > 0) this.close(now)
    return this.segments.map((s) => ({ at: s.at, ids: s.text }))
  }

  private close(at: number): void {
    this.segments.push({ at, ids: this.open, text: this.open.join(' ') })
    this.open = []
    const oldest = at - this.windowMs
    while (this.segments.length > 0 && this.segments[0]!.at < oldest) {
      for (const id of this.segments.shift()!.ids) this.known.delete(id)
    }
  }
}

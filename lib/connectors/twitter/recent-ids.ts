import { IdRing } from './id-ring.js'

/** Ids emitted together, up to `at`, as one string ({@link IdRing.text}): how a checkpoint keeps them. */
export interface IdSegment {
  readonly at: number
  readonly ids: string
}

/** How restored segments write their ids: 'delta' ({@link IdRing.text}), or 'decimal' (space-joined, state v1). */
export type IdEncoding = 'delta' | 'decimal'

/** Ids in the open segment after which it is closed even without a checkpoint (memory stays bounded). */
const SEGMENT_LIMIT = 8192

/** A closed segment: the ids numbered below `end` (from the previous segment's end), newest at `at`. */
interface Segment {
  readonly at: number
  readonly end: number
  readonly text: string
}

/**
 * The ids of tweets emitted in the recent window: a backfill after a reconnect or a restore sends some
 * tweets again, and those are recognised here. Ids are kept in an {@link IdRing} (numbers in typed
 * arrays: nothing allocated per id) and grouped in segments closed at each snapshot (and every 8192
 * ids); a segment whose newest id is older than `windowMs` is forgotten, since a backfill cannot reach
 * it. A checkpoint holds one string per segment, built once when the segment closes, so frequent
 * checkpoints cost little at high rates; the text writes each id as its difference from the one
 * before, about a third of the decimal ids' size. A window of 0 keeps nothing. Ids must be X's decimal
 * ids (`isTweetId`).
 *
 * @example
 * const ids = new RecentIds(6 * 60_000)
 * ids.add('1460323737035677698', now) // true: new
 * ids.add('1460323737035677698', now) // false: emitted already
 */
export class RecentIds {
  private readonly ring = new IdRing()
  private readonly segments: Segment[] = []

  constructor(
    private readonly windowMs: number,
    restored: readonly IdSegment[] = [],
    encoding: IdEncoding = 'delta',
  ) {
    if (windowMs === 0) return
    for (const segment of restored) {
      const from = this.ring.end
      this.ring.addText(segment.ids, encoding)
      const text = encoding === 'delta' ? segment.ids : this.ring.text(from, this.ring.end)
      this.segments.push({ at: segment.at, end: this.ring.end, text })
    }
  }

  get size(): number {
    return this.ring.size
  }

  /** Remembers `id` as emitted at `at`; false when it was emitted already (a duplicate). */
  add(id: string, at: number): boolean {
    if (this.windowMs === 0) return true
    if (!this.ring.add(id)) return false
    if (this.ring.end - this.openStart() >= SEGMENT_LIMIT) this.close(at)
    return true
  }

  /** The segments of the window, for a checkpoint; older ones are forgotten. */
  snapshot(now: number): IdSegment[] {
    if (this.windowMs === 0) return []
    if (this.ring.end > this.openStart()) this.close(now)
    return this.segments.map((s) => ({ at: s.at, ids: s.text }))
  }

  /** The sequence number of the open segment's first id. */
  private openStart(): number {
    return this.segments.length === 0 ? this.ring.start : this.segments[this.segments.length - 1]!.end
  }

  private close(at: number): void {
    const end = this.ring.end
    this.segments.push({ at, end, text: this.ring.text(this.openStart(), end) })
    const oldest = at - this.windowMs
    while (this.segments.length > 0 && this.segments[0]!.at < oldest) this.ring.forgetBefore(this.segments.shift()!.end)
  }
}

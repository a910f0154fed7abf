/**
 * The ids of tweets emitted in the recent window, with when each was emitted, in emission order: a
 * backfill after a reconnect or a restore sends some tweets again, and those are recognised here.
 * Ids older than `windowMs` are forgotten (a backfill cannot reach them); a window of 0 keeps none.
 *
 * @example
 * const ids = new RecentIds(6 * 60_000)
 * ids.add('1460323737035677698', now) // true: new
 * ids.add('1460323737035677698', now) // false: emitted already
 */
export class RecentIds {
  private readonly ids = new Map<string, number>()
  private adds = 0

  constructor(
    private readonly windowMs: number,
    restored: ReadonlyArray<readonly [string, number]> = [],
  ) {
    if (windowMs > 0) for (const [id, at] of restored) this.ids.set(id, at)
  }

  get size(): number {
    return this.ids.size
  }

  /** Remembers `id` as emitted at `at`; false when it was emitted already (a duplicate). */
  add(id: string, at: number): boolean {
    if (this.ids.has(id)) return false
    if (this.windowMs > 0) {
      this.ids.set(id, at)
      if (++this.adds % 1024 === 0) this.forgetBefore(at - this.windowMs)
    }
    return true
  }

  /** The ids emitted since `now - windowMs`, for a checkpoint; older ones are forgotten. */
  snapshot(now: number): Array<[string, number]> {
    this.forgetBefore(now - this.windowMs)
    return [...this.ids]
  }

  private forgetBefore(oldest: number): void {
    for (const [id, at] of this.ids) {
      if (at >= oldest) return
      this.ids.delete(id)
    }
  }
}

/** The timer functions a {@link LayoutKeeper} uses: the global ones, or a test's. */
export interface KeeperTimers {
  setTimeout(fn: () => void, ms: number): object
  clearTimeout(timer: unknown): void
}

/**
 * Keeps the subtasks of ended jobs reachable until a subtask built after they ended is running, or
 * for `graceMs` at most.
 *
 * V8 keeps an object layout (a hidden class, its "map") only while some object has it. When a job
 * ends and a full collection takes its objects, the next job builds the same classes with new maps:
 * every optimized function that embedded the old maps is thrown away, and after about six such jobs
 * the record path's inline caches stay slower for good (benchmark case a, jobs of 5,000,000 records
 * one after another: 0.53× → 0.83× @most/core with the ended subtasks kept). Holding an ended job's
 * subtasks until the next job's are running keeps the layouts alive through their own objects, and
 * holds no job longer than that (or than `graceMs`, when no job follows).
 *
 * Concurrency: one per thread (isolate), called from that thread's actors only.
 *
 * @example
 * const keeper = new LayoutKeeper(30_000)
 * const built = keeper.stamp() // when a subtask is built
 * keeper.running(built)        // when it runs: releases the subtasks that ended before it was built
 * keeper.ended(subtask)        // when it stops
 */
export class LayoutKeeper {
  private held: { subtask: object; endedAt: number }[] = []
  private sequence = 0
  private timer: object | undefined

  constructor(
    private readonly graceMs: number,
    private readonly timers: KeeperTimers = { setTimeout, clearTimeout },
  ) {}

  /** A mark in this keeper's sequence of events: take one when a subtask is built. */
  stamp(): number {
    return ++this.sequence
  }

  /** A subtask stopped (finished, failed or cancelled): held until a later one runs. */
  ended(subtask: object): void {
    this.held.push({ subtask, endedAt: ++this.sequence })
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer)
    this.timer = this.timers.setTimeout(() => this.releaseAll(), this.graceMs)
    ;(this.timer as { unref?(): unknown }).unref?.()
  }

  /** A subtask built at `builtAt` runs: its job's objects now hold the layouts of those that ended before. */
  running(builtAt: number): void {
    if (this.held.length === 0 || this.held[0]!.endedAt > builtAt) return
    this.held = this.held.filter((h) => h.endedAt > builtAt)
    if (this.held.length === 0) this.releaseAll()
  }

  /** How many ended subtasks are held. */
  get size(): number {
    return this.held.length
  }

  private releaseAll(): void {
    this.held = []
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer)
    this.timer = undefined
  }
}

/** This thread's keeper: an ended job's subtasks are held for 30 s at most. */
export const layoutKeeper = new LayoutKeeper(30_000)

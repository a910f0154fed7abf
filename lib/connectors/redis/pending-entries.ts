/**
 * The ids a stream reader has read and not yet acknowledged, and which checkpoint covers each: read
 * (buffered or emitted) → emitted before barrier n → XACK sent when checkpoint n completes → answered.
 * Per entry it stores the id string once in a set and once in a list; nothing else.
 *
 * @example
 * const pending = new PendingEntries()
 * pending.add('1-0'); pending.emitted('1-0'); pending.barrier(1)
 * const ids = pending.completed(1) // ['1-0']: XACK them, then
 * pending.acknowledged(ids)
 */
export class PendingEntries {
  /** Read and not acknowledged: buffered, emitted and waiting for a checkpoint, or being acknowledged. */
  private readonly inFlight = new Set<string>()
  private sinceBarrier: string[] = []
  /** Ids emitted before each checkpoint's barrier, until that checkpoint (or a later one) completes. */
  private readonly awaiting = new Map<number, string[]>()
  /** Ids whose XACK was sent and not answered: still part of an exactly-once checkpoint. */
  private readonly acking = new Set<readonly string[]>()
  /**
   * Ids acknowledged while a read of pending entries runs. The XACK goes on the other connection, so
   * Redis may answer the read with an entry still pending and the XACK after it: the read must not
   * take such an entry for a new one.
   */
  private ackedWhileReading: Set<string> | undefined
  /** The most ids ever read and not yet acknowledged at once. */
  maxSize = 0

  /** Read and not acknowledged now. */
  get size(): number {
    return this.inFlight.size
  }

  /** An entry was read. */
  add(id: string): void {
    this.inFlight.add(id)
    if (this.inFlight.size > this.maxSize) this.maxSize = this.inFlight.size
  }

  /** Whether the entry was read and is not acknowledged yet. */
  has(id: string): boolean {
    return this.inFlight.has(id)
  }

  /** Read and not acknowledged, or acknowledged while the current read of pending entries ran. */
  known(id: string): boolean {
    return this.inFlight.has(id) || this.ackedWhileReading?.has(id) === true
  }

  /** A read of pending entries (own or claimed) starts / ends. */
  readingPending(running: boolean): void {
    this.ackedWhileReading = running ? new Set() : undefined
  }

  /** The entry left the source: the next barrier covers it. */
  emitted(id: string): void {
    this.sinceBarrier.push(id)
  }

  /** A checkpoint barrier: what was emitted since the last one waits for this checkpoint. */
  barrier(checkpointId: number): void {
    if (this.sinceBarrier.length === 0) return
    this.awaiting.set(checkpointId, this.sinceBarrier)
    this.sinceBarrier = []
  }

  /** Every id emitted before a barrier and not yet acknowledged: what an exactly-once checkpoint keeps. */
  unacknowledgedEmitted(): string[] {
    const ids: string[] = []
    for (const list of this.awaiting.values()) for (const id of list) ids.push(id)
    for (const list of this.acking) for (const id of list) ids.push(id)
    return ids
  }

  /** The checkpoint (and every earlier one) completed: the ids to XACK now; pass them to `acknowledged` after. */
  completed(checkpointId: number): readonly string[] {
    const ids: string[] = []
    for (const [id, list] of this.awaiting) {
      if (id > checkpointId) continue
      for (const entry of list) ids.push(entry)
      this.awaiting.delete(id)
    }
    if (ids.length > 0) this.acking.add(ids)
    return ids
  }

  /** Redis answered the XACK of these ids (a part of what `completed` returned). */
  acknowledged(ids: readonly string[]): void {
    for (const id of ids) {
      this.inFlight.delete(id)
      this.ackedWhileReading?.add(id)
    }
  }

  /** The XACKs of what `completed` returned are done (or failed). */
  settled(ids: readonly string[]): void {
    this.acking.delete(ids)
  }
}

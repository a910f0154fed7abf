/**
 * What a Kinesis reader needs to know of the other readers of its source: which shards have been read
 * to their end (and their records emitted), so a child shard starts only once its parents are
 * finished — also when a parent of a merge belongs to another subtask. On one thread this is the
 * source object's {@link FinishedShards}; on the worker executor it is the coordinator's, reached
 * through the subtask's port (`RemoteFinishedShards`, `finished-shards-bridge.ts`).
 *
 * @example
 * registry.mark('shardId-000000000000'); registry.isFinished('shardId-000000000000') // true
 */
export interface ShardFinishRegistry {
  /** This reader finished `shardId` (or its restored checkpoint says so). */
  mark(shardId: string): void
  /** Takes back one mark of this reader (it closes: only the next restored checkpoints count). */
  unmark(shardId: string): void
  isFinished(shardId: string): boolean
  /** Calls `listener` whenever a shard is marked; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void
}

/**
 * Which shards have been read to their end, counted per mark: the readers of one source on one thread
 * share it, and on the worker executor the coordinator's copy of the source holds the job-wide one. A
 * reader marks the shards it finished (and those its restored checkpoint says are finished) and clears
 * its marks when it closes, so after a failure only what the restored checkpoints say counts. Readers
 * subscribe to hear of new marks.
 *
 * @example
 * const registry = new FinishedShards(); registry.mark('shardId-000000000000')
 * registry.isFinished('shardId-000000000000') // true
 */
export class FinishedShards implements ShardFinishRegistry {
  private readonly marks = new Map<string, number>()
  private readonly listeners = new Set<(shardId: string) => void>()

  mark(shardId: string): void {
    this.marks.set(shardId, (this.marks.get(shardId) ?? 0) + 1)
    for (const listener of this.listeners) listener(shardId)
  }

  unmark(shardId: string): void {
    const n = (this.marks.get(shardId) ?? 0) - 1
    if (n > 0) this.marks.set(shardId, n)
    else this.marks.delete(shardId)
  }

  isFinished(shardId: string): boolean {
    return this.marks.has(shardId)
  }

  /** The shards finished now. */
  finished(): string[] {
    return [...this.marks.keys()]
  }

  subscribe(listener: (shardId: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}

import type { IdempotencyKeys, IdempotencyStateV1 } from './idempotency-keys.js'

/** What a source answers once a checkpoint covers it: a request or message, with its idempotency key. */
export interface Answerable {
  readonly key: string | undefined
}

/**
 * The answer-on-checkpoint bookkeeping of a source whose clients wait for durability (the HTTP
 * server source's 'checkpointed' mode, the actor source's): entries taken and not yet covered by key
 * (a retry joins the first attempt), the entries emitted since the last barrier, the ones each pending
 * checkpoint covers, and the {@link IdempotencyKeys} remembered after their checkpoint completed.
 * A completion answers every entry of that checkpoint and the ones before it (a later completion
 * subsumes a lost notice); the checkpoint's state holds the remembered keys and those still pending.
 *
 * Threading: one reader's, on its event loop.
 *
 * @example
 * const answers = new CheckpointAnswers<Request>(new IdempotencyKeys(600_000, Date.now))
 * answers.track(request); answers.emitted(request)   // taken, then emitted before a barrier
 * const state = answers.snapshot(7)                   // the barrier of checkpoint 7
 * answers.complete(7, (r) => r.respond(200))          // checkpoint 7 completed
 */
export class CheckpointAnswers<E extends Answerable> {
  private emittedSinceBarrier: E[] = []
  private readonly pending: Array<{ checkpointId: number; entries: E[] }> = []
  private readonly inflight = new Map<string, E>()

  constructor(private readonly keys: IdempotencyKeys) {}

  /** Keys remembered after their checkpoint completed. */
  get remembered(): number {
    return this.keys.size
  }

  /** Whether a completed checkpoint holds the records of `key` (a retry is a duplicate). */
  isCovered(key: string): boolean {
    return this.keys.has(key)
  }

  /** The entry of `key` taken and not yet covered, which a retry joins. */
  waiting(key: string): E | undefined {
    return this.inflight.get(key)
  }

  /** An entry was taken: a retry of its key joins it until it is covered. */
  track(entry: E): void {
    if (entry.key !== undefined) this.inflight.set(entry.key, entry)
  }

  /** An entry given up before it was emitted (a held request that timed out). */
  forget(key: string): void {
    this.inflight.delete(key)
  }

  /** An entry's records were all emitted: the next barrier's checkpoint covers it. */
  emitted(entry: E): void {
    this.emittedSinceBarrier.push(entry)
  }

  /** The barrier of `checkpointId`: it covers what was emitted since the last one. */
  snapshot(checkpointId: number): IdempotencyStateV1 {
    this.pending.push({ checkpointId, entries: this.emittedSinceBarrier })
    this.emittedSinceBarrier = []
    const pendingKeys: string[] = []
    for (const p of this.pending) for (const e of p.entries) if (e.key !== undefined) pendingKeys.push(e.key)
    return this.keys.state(pendingKeys)
  }

  /** Checkpoint `checkpointId` completed: answers the entries it and earlier ones cover, and remembers their keys. */
  complete(checkpointId: number, answer: (entry: E) => void): void {
    let n = 0
    while (n < this.pending.length && this.pending[n]!.checkpointId <= checkpointId) n++
    if (n === 0) return
    const covered: string[] = []
    for (const { entries } of this.pending.splice(0, n))
      for (const entry of entries) {
        answer(entry)
        if (entry.key === undefined) continue
        covered.push(entry.key)
        this.inflight.delete(entry.key)
      }
    this.keys.cover(covered)
  }
}

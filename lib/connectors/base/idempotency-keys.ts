import { StateError } from '../../errors.js'

/**
 * A source's checkpointed idempotency state (version 1): the keys whose records the checkpoint holds,
 * each with the wall-clock time its checkpoint completed (0: not known to have completed).
 */
export interface IdempotencyStateV1 {
  readonly v: 1
  readonly keys: ReadonlyArray<readonly [key: string, coveredAt: number]>
}

/**
 * The idempotency keys (HTTP Idempotency-Keys, actor message ids) whose records a completed checkpoint
 * holds, each kept `windowMs` after it was covered, so that a client retrying a request whose answer it
 * never got is answered without its records being taken twice. Restored keys come from a checkpoint:
 * their records are in the job's state or output already, whether or not the completion notice reached
 * the source. `owns` keeps, of the restored keys, those this reader answers for (after a rescale).
 *
 * Bounds: one entry per covered key for `windowMs`; expired entries go at each completion.
 *
 * @example
 * const keys = new IdempotencyKeys(600_000, Date.now, restoredSplits)
 * if (keys.has(key)) answerDuplicate()
 * keys.cover(['k1', 'k2'])                   // checkpoint completed
 * keys.state(['k3'])                         // { v: 1, keys: [['k1', t], ['k2', t], ['k3', 0]] }
 */
export class IdempotencyKeys {
  private readonly covered = new Map<string, number>()

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
    restored: readonly unknown[] = [],
    owns: (key: string) => boolean = () => true,
  ) {
    const at = now()
    for (const split of restored) {
      const state = split as Partial<IdempotencyStateV1> | null
      if (state === null || typeof state !== 'object' || state.v !== 1 || !Array.isArray(state.keys))
        throw new StateError(
          'ERR_STATE_VERSION',
          `source state ${JSON.stringify(split)?.slice(0, 120)} is not a version 1 idempotency state`,
        )
      for (const [key, coveredAt] of state.keys) if (owns(key)) this.covered.set(key, coveredAt > 0 ? coveredAt : at)
    }
  }

  /** How many keys are remembered. */
  get size(): number {
    return this.covered.size
  }

  has(key: string): boolean {
    return this.covered.has(key)
  }

  /** A checkpoint covering the requests of `keys` completed; also forgets keys older than the window. */
  cover(keys: readonly string[]): void {
    const at = this.now()
    for (const key of keys) this.covered.set(key, at)
    const oldest = at - this.windowMs
    for (const [key, coveredAt] of this.covered) if (coveredAt < oldest) this.covered.delete(key)
  }

  /** The state for a checkpoint: the covered keys, and `pending` (emitted before its barrier) marked 0. */
  state(pending: Iterable<string>): IdempotencyStateV1 {
    const keys: Array<readonly [string, number]> = []
    for (const entry of this.covered) keys.push(entry)
    for (const key of pending) keys.push([key, 0])
    return { v: 1, keys }
  }
}

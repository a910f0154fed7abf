import { StateError } from '../../errors.js'

/** The records of one checkpoint in the write-ahead log: value and event time, in arrival order. */
export interface WalCheckpoint<T> {
  readonly id: number
  readonly records: ReadonlyArray<readonly [value: T, timestamp: number | undefined]>
}

/** The write-ahead log's state of one writer in a checkpoint (version 1). */
export interface WalStateV1<T> {
  readonly v: 1
  readonly subtask: number
  readonly writerId: string
  /** The checkpoints taken and not yet written, oldest first. */
  readonly pending: ReadonlyArray<WalCheckpoint<T>>
}

/**
 * Checks a restored write-ahead-log state.
 *
 * @example
 * const states = restoredWalStates(restored) // throws StateError for anything else
 */
export function restoredWalStates<T>(restored: readonly unknown[]): WalStateV1<T>[] {
  return restored.map((entry) => {
    const state = entry as Partial<WalStateV1<T>> | null
    if (state === null || typeof state !== 'object' || state.v !== 1 || !Array.isArray(state.pending))
      throw new StateError(
        'ERR_STATE_VERSION',
        `cassandra sink state ${JSON.stringify(entry)?.slice(0, 120)} is not a version 1 write-ahead log`,
      )
    return state as WalStateV1<T>
  })
}

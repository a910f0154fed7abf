import { StateError } from '../errors.js'
import type { KeyedStateSnapshot } from '../state/keyed-snapshot.js'
import { KeyGroupRange } from '../state/key-groups.js'
import type { CheckpointMetadata, OperatorSubtaskState, StateHandle } from './checkpoint-types.js'

/** A checkpoint or savepoint to start from, and how to read its states. */
export interface RestoreSource {
  readonly metadata: CheckpointMetadata
  readonly read: (handle: StateHandle) => Promise<OperatorSubtaskState>
}

/** What one operator subtask gets back from a checkpoint. */
export interface OperatorRestore {
  readonly keyed: readonly KeyedStateSnapshot[]
  readonly split: readonly unknown[]
  readonly union: readonly unknown[]
  /** In-flight records of an unaligned checkpoint (same parallelism only). */
  readonly channels?: OperatorSubtaskState['channels']
}

/**
 * Checks that a checkpoint fits the job before anything is deployed: every operator state in it is
 * claimed by an operator of the job with the same uid (unless dropping is allowed), and the number of
 * key groups is unchanged. `origin` names it in errors (`savepoint /sp/1 (checkpoint 5)`). Returns the
 * uids whose state is dropped under `allowNonRestoredState`, for the caller to log.
 *
 * @example
 * checkClaims(metadata, new Map([['counter', 128]]), false, 'checkpoint 5') // []
 */
export function checkClaims(
  metadata: CheckpointMetadata,
  operators: ReadonlyMap<string, number>,
  allowNonRestoredState: boolean,
  origin: string,
): string[] {
  const dropped: string[] = []
  for (const [uid, op] of Object.entries(metadata.operators)) {
    const maxParallelism = operators.get(uid)
    if (maxParallelism === undefined) {
      if (op.subtasks.every((h) => h === null)) continue
      if (allowNonRestoredState) {
        dropped.push(uid)
        continue
      }
      throw new StateError(
        'ERR_STATE_UNCLAIMED',
        `${origin} has state of operator uid "${uid}" that no operator of this job claims; give that operator the same uid, or set allowNonRestoredState to drop it`,
      )
    }
    if (maxParallelism !== op.maxParallelism) {
      throw new StateError(
        'ERR_STATE_INCOMPATIBLE',
        `operator "${uid}" was checkpointed with maxParallelism ${op.maxParallelism} in ${origin} and now has ${maxParallelism}: the number of key groups cannot change`,
      )
    }
  }
  return dropped
}

/**
 * Reads the state one subtask of an operator gets when the job restores, at any parallelism: keyed
 * state from every old subtask whose key groups overlap this one's; split operator state dealt out
 * round-robin or, with `splits` 'all', all of it (both kept in place when the parallelism is
 * unchanged), or all of it at any parallelism with 'union'; union state whole.
 *
 * @example
 * const restore = await loadOperatorRestore(source, 'counter', 3, 128, 1)
 */
export async function loadOperatorRestore(
  source: RestoreSource,
  uid: string,
  parallelism: number,
  maxParallelism: number,
  subtask: number,
  splits: 'deal' | 'all' | 'union' = 'deal',
): Promise<OperatorRestore | undefined> {
  const op = source.metadata.operators[uid]
  if (op === undefined) return undefined
  const mine = KeyGroupRange.forSubtask(maxParallelism, parallelism, subtask)
  const states = await Promise.all(op.subtasks.map((handle) => (handle === null ? undefined : source.read(handle))))
  const keyed: KeyedStateSnapshot[] = []
  op.subtasks.forEach((_, old) => {
    const theirs = KeyGroupRange.forSubtask(maxParallelism, op.parallelism, old)
    const state = states[old]
    if (state?.keyed !== undefined && theirs.start <= mine.end && mine.start <= theirs.end) keyed.push(state.keyed)
  })
  let split: unknown[]
  if (splits === 'union') split = states.flatMap((s) => s?.split ?? [])
  else if (op.parallelism === parallelism) split = [...(states[subtask]?.split ?? [])]
  else if (splits === 'all') split = states.flatMap((s) => s?.split ?? [])
  else split = states.flatMap((s) => s?.split ?? []).filter((_, i) => i % parallelism === subtask)
  const union = states.flatMap((s) => s?.union ?? [])
  const channels = states[subtask]?.channels
  if (states.some((s) => s?.channels !== undefined) && op.parallelism !== parallelism) {
    throw new StateError(
      'ERR_STATE_INCOMPATIBLE',
      `checkpoint ${source.metadata.id} is unaligned (it holds records in flight) and cannot restore operator "${uid}" at parallelism ${parallelism} (it ran at ${op.parallelism}); take an aligned savepoint to rescale`,
    )
  }
  return { keyed, split, union, ...(op.parallelism === parallelism && channels !== undefined ? { channels } : {}) }
}

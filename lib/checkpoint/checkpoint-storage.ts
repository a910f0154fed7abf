import type { CheckpointMetadata, OperatorSubtaskState, StateHandle } from './checkpoint-types.js'

/**
 * Where checkpoints are kept (Flink's CheckpointStorage). Subtasks write their state; the coordinator
 * completes a checkpoint by writing its metadata, which is the commit point: a checkpoint without
 * readable metadata never completed and is skipped on restore.
 */
export interface CheckpointStorage {
  /** Human-readable location for logs, e.g. the directory. */
  readonly description: string
  /**
   * Stores one subtask state. The keyed snapshot's buffer (`state.keyed.data`) is reused by the subtask's
   * next snapshot once the returned promise settles: a storage that keeps it past that must copy it.
   */
  writeState(checkpointId: number, uid: string, subtask: number, state: OperatorSubtaskState): Promise<StateHandle>
  readState(handle: StateHandle): Promise<OperatorSubtaskState>
  /** Makes a checkpoint complete: its metadata is written, atomically. */
  complete(metadata: CheckpointMetadata): Promise<void>
  /**
   * Drops checkpoints older than `latestId` beyond retention, and ones that never completed; savepoints
   * and the checkpoints in `keep` (a deployment may be restoring from them) stay.
   */
  prune(latestId: number, keep: readonly number[]): Promise<void>
  /** Drops the state files of a checkpoint that did not complete. */
  discard(checkpointId: number): Promise<void>
  /**
   * The newest complete, readable checkpoint; corrupted ones are skipped with a warning. Rejects with
   * StateError ERR_NO_READABLE_CHECKPOINT when checkpoints completed but none of them can be read.
   */
  latest(): Promise<CheckpointMetadata | undefined>
  /** Writes a savepoint's metadata and state to `directory`, self-contained. */
  saveSavepoint(metadata: CheckpointMetadata, directory: string): Promise<string>
}

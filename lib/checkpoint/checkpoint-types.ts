import type { KeyedStateSnapshot } from '../state/keyed-snapshot.js'

/** The barrier of checkpoint `id`: travels in band; everything before it belongs to the checkpoint. */
export interface CheckpointBarrier {
  readonly kind: 'barrier'
  readonly id: number
  readonly timestamp: number
  /** A savepoint: taken on request, kept by retention, restorable into a changed job. */
  readonly savepoint: boolean
}

/** The state of one operator in one subtask, as written into a checkpoint. */
export interface OperatorSubtaskState {
  /** Keyed state and timers, by key group. */
  readonly keyed?: KeyedStateSnapshot
  /** Operator state dealt out round-robin over the subtasks on restore (source splits, pending transactions). */
  readonly split?: readonly unknown[]
  /** Operator state every subtask gets whole on restore. */
  readonly union?: readonly unknown[]
  /**
   * Unaligned checkpoints, on the chain head's state: records in flight when the barrier overtook them,
   * per input channel (to process first on restore) and per output writer and target (to send first).
   */
  readonly channels?: { readonly inputs: unknown[][]; readonly outputs: unknown[][][] }
}

/** Where one subtask state of a checkpoint is kept. */
export interface StateHandle {
  readonly location: string
  readonly bytes: number
  /** sha-256 of the stored bytes, checked on read. */
  readonly checksum: string
}

/** One operator's part of a completed checkpoint. */
export interface OperatorCheckpoint {
  readonly parallelism: number
  readonly maxParallelism: number
  /** Handle per subtask index; undefined where the subtask had no state. */
  readonly subtasks: ReadonlyArray<StateHandle | null>
}

/** The metadata of a completed checkpoint: written last, atomically, so its presence means complete. */
export interface CheckpointMetadata {
  readonly format: 1
  readonly id: number
  readonly timestamp: number
  readonly job: string
  readonly savepoint: boolean
  /** By operator uid. */
  readonly operators: Readonly<Record<string, OperatorCheckpoint>>
  readonly bytes: number
}

/** What happened to one checkpoint, for the job's metrics. */
export interface CheckpointStats {
  readonly id: number
  readonly savepoint: boolean
  readonly triggeredAt: number
  /**
   * 'failed': declined, timed out or cut off by a restart; 'subsumed': a later checkpoint completed
   * first; 'abandoned': still running when every input had ended and nothing needed it (not a failure).
   */
  readonly status: 'in-progress' | 'completed' | 'failed' | 'subsumed' | 'abandoned'
  readonly durationMs: number
  readonly bytes: number
  /** The longest time a subtask spent aligning barriers for it. */
  readonly alignmentMs: number
  readonly failure?: string
}

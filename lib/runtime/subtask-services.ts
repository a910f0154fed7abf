import type { CheckpointStorage } from '../checkpoint/checkpoint-storage.js'
import type { RestoreSource } from '../checkpoint/state-assignment.js'
import type { Logger } from '../logging.js'
import type { QueryableRegistry } from '../queryable/queryable-registry.js'
import type { ResolvedConfig } from './job-config.js'
import type { JobVertex } from './job-graph.js'
import type { SubtaskMetrics } from './job-metrics.js'
import type { OperatorChain } from './operator-chain.js'
import type { DeadLetter } from './output-tag.js'
import type { SubtaskControl, SubtaskEvent } from './subtask-message.js'

/**
 * What the host that runs a subtask gives it besides its {@link SubtaskDeployment}: the live side of
 * the job on the subtask's thread (its operators, logger, storage) and the ways out of the subtask
 * (channels to other subtasks, events to the job master).
 */
export interface SubtaskServices {
  /** The vertex, with the operators built on this thread. */
  readonly vertex: JobVertex
  readonly config: ResolvedConfig
  readonly log: Logger
  /** Set once the deployment is cancelled or replaced: nothing of it may act any more. */
  readonly attempt: { readonly cancelled: boolean }
  /** Sends a message to the subtask with key `key` (a channel element or a credit). */
  readonly send: (key: string, message: SubtaskControl) => void
  /** Tells the job master. */
  readonly report: (event: SubtaskEvent) => void
  readonly deadLetter: (letter: DeadLetter) => void
  readonly createMetrics: (operators: OperatorChain) => SubtaskMetrics
  /** Where checkpoints are written (with checkpointing). */
  readonly storage: Pick<CheckpointStorage, 'writeState'> | undefined
  /** Reads the state of the checkpoint or savepoint the deployment restores. */
  readonly readState: RestoreSource['read'] | undefined
  readonly queryables: QueryableRegistry | undefined
}

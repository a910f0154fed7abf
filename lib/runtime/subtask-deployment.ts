import type { ActorRef } from '../actors/actor-ref.js'
import type { ResolvedConfig } from './job-config.js'
import type { RestoreSource } from '../checkpoint/state-assignment.js'
import type { Logger } from '../logging.js'
import type { QueryableRegistry } from '../queryable/queryable-registry.js'
import type { JobVertex } from './job-graph.js'
import type { SubtaskMetrics } from './job-metrics.js'
import type { OperatorChain } from './operator-chain.js'
import type { DeadLetter } from './output-tag.js'
import type { CheckpointSettings } from './subtask-checkpointer.js'
import type { SubtaskMessage } from './subtask-message.js'

/** One input channel of a subtask: which input of the head it feeds and whom to give credits back. */
export interface InputChannelSpec {
  readonly input: 1 | 2
  readonly upstream: () => ActorRef<SubtaskMessage>
  /** The sender's writer index and the receiver's index among that writer's targets. */
  readonly writer: number
  readonly target: number
}

/** One channel of an output writer: the receiving actor and its channel index there. */
export interface OutputChannelSpec {
  readonly receiver: () => ActorRef<SubtaskMessage>
  readonly channel: number
}

/** Everything one subtask needs to run; built by the job master for each deployment. */
export interface SubtaskDeployment {
  readonly vertex: JobVertex
  readonly subtask: number
  readonly config: ResolvedConfig
  readonly inputs: readonly InputChannelSpec[]
  /** Per output edge of the vertex: per downstream subtask, the channel (undefined where not connected). */
  readonly outputs: ReadonlyArray<ReadonlyArray<OutputChannelSpec | undefined>>
  readonly createMetrics: (operators: OperatorChain) => SubtaskMetrics
  readonly attempt: { cancelled: boolean }
  readonly log: Logger
  readonly deadLetter: (letter: DeadLetter) => void
  readonly finished: () => void
  /** The subtask has opened its operators and (for sources) started its reader. */
  readonly running: () => void
  /** With checkpoints: the subtask's input has ended; it waits for the final checkpoint, then `finish`. */
  readonly ended: () => void
  readonly checkpointing: CheckpointSettings | undefined
  /** The checkpoint or savepoint this deployment starts from. */
  readonly restore: RestoreSource | undefined
  readonly queryables: QueryableRegistry | undefined
}

/** Room for the subtask's own control messages and concurrent queryable-state lookups. */
const QUERY_AND_CONTROL_SLOTS = 64

/**
 * Mailbox slots a subtask can ever need: one per credit of each input channel, one per credit its
 * output channels can hand back, and a few for its own control messages.
 *
 * @example
 * subtaskMailboxCapacity(deployment) // 2 inputs × 4 credits + 3 outputs × 4 credits + 64
 */
export function subtaskMailboxCapacity(d: Pick<SubtaskDeployment, 'inputs' | 'outputs' | 'config'>): number {
  const outputChannels = d.outputs.reduce((n, targets) => n + targets.filter((t) => t !== undefined).length, 0)
  // each input channel also keeps one slot for an unaligned barrier, which needs no credit
  return (d.inputs.length + outputChannels) * d.config.channelCredits + d.inputs.length + QUERY_AND_CONTROL_SLOTS
}

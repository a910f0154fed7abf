import type { CheckpointMetadata } from '../checkpoint/checkpoint-types.js'

/** One input channel of a subtask: which input of the head it feeds and whom to give credits back. */
export interface InputChannelSpec {
  readonly input: 1 | 2
  /** The key of the sending subtask. */
  readonly upstream: string
  /** The sender's writer index and the receiver's index among that writer's targets. */
  readonly writer: number
  readonly target: number
}

/** One channel of an output writer: the key of the receiving subtask and its channel index there. */
export interface OutputChannelSpec {
  readonly receiver: string
  readonly channel: number
}

/**
 * What one subtask of one deployment is (Flink's TaskDeploymentDescriptor): plain data, no function,
 * so that it can be sent to another thread. Everything that is a function or a live object (the
 * operators, the logger, the checkpoint storage) the host that runs the subtask supplies as
 * {@link SubtaskServices}.
 */
export interface SubtaskDeployment {
  /** `${vertexId}-${subtask}`: how channels, the job master and the checkpoint coordinator name it. */
  readonly key: string
  readonly vertexId: number
  readonly subtask: number
  /** The deployment's number: messages of an earlier deployment are ignored. */
  readonly attempt: number
  readonly inputs: readonly InputChannelSpec[]
  /** Per output edge of the vertex: per downstream subtask, the channel (undefined where not connected). */
  readonly outputs: ReadonlyArray<ReadonlyArray<OutputChannelSpec | undefined>>
  readonly checkpointing:
    | { readonly mode: 'exactly-once' | 'at-least-once'; readonly unaligned: boolean; readonly intervalMs: number }
    | undefined
  /** The checkpoint or savepoint this deployment starts from. */
  readonly restore: CheckpointMetadata | undefined
  readonly mailboxCapacity: number
}

/** Room for the subtask's own control messages and concurrent queryable-state lookups. */
const QUERY_AND_CONTROL_SLOTS = 64

/**
 * Mailbox slots a subtask can ever need: one per credit of each input channel, one per credit its
 * output channels can hand back, and a few for its own control messages.
 *
 * @example
 * subtaskMailboxCapacity(inputs, outputs, 4) // 2 inputs × 4 credits + 3 outputs × 4 credits + 2 + 64
 */
export function subtaskMailboxCapacity(
  inputs: readonly InputChannelSpec[],
  outputs: SubtaskDeployment['outputs'],
  channelCredits: number,
): number {
  const outputChannels = outputs.reduce((n, targets) => n + targets.filter((t) => t !== undefined).length, 0)
  // each input channel also keeps one slot for an unaligned barrier, which needs no credit
  return (inputs.length + outputChannels) * channelCredits + inputs.length + QUERY_AND_CONTROL_SLOTS
}

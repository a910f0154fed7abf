import type { CheckpointAck } from '../checkpoint/checkpoint-coordinator.js'
import type { CheckpointBarrier } from '../checkpoint/checkpoint-types.js'
import type { ChannelElement } from './record-batch.js'

/**
 * What reaches a subtask from outside: from its job master, and from the subtasks it shares channels
 * with. Plain data only (no function), so that a message can cross a thread.
 */
export type SubtaskControl =
  | { readonly t: 'start' }
  /** An element of input channel `channel`: a batch or a control element. */
  | { readonly t: 'input'; readonly channel: number; readonly element: ChannelElement }
  /** The receiver of output `writer`'s channel to subtask `target` consumed `n` elements. */
  | { readonly t: 'credit'; readonly writer: number; readonly target: number; readonly n: number }
  /** Snapshot now (sources, and subtasks whose input has ended): the barrier comes from the coordinator. */
  | { readonly t: 'trigger-checkpoint'; readonly barrier: CheckpointBarrier; readonly stopSource?: boolean }
  | { readonly t: 'checkpoint-complete'; readonly checkpointId: number }
  | { readonly t: 'checkpoint-abort'; readonly checkpointId: number }
  /** The final checkpoint is complete: close and finish. */
  | { readonly t: 'finish' }

/**
 * The messages a subtask actor handles: its {@link SubtaskControl} messages, and the ones it sends
 * itself, which never leave its thread (a `call` carries a function).
 */
export type SubtaskMessage =
  | SubtaskControl
  /** Go on processing (self-sent, to yield between turns). */
  | { readonly t: 'run' }
  /** Run a callback inside the actor: timers and finished async work. */
  | { readonly t: 'call'; readonly fn: () => void }
  | { readonly t: 'fail'; readonly error: unknown }

/**
 * What a subtask tells its job master. Plain data, so that it can cross a thread; the host that runs
 * the subtask tags it with the deployment's attempt.
 */
export type SubtaskEvent =
  /** The subtask has opened its operators and (for sources) started its reader. */
  | { readonly t: 'subtask-running' }
  /** With checkpoints: the subtask's input has ended; it waits for the final checkpoint, then `finish`. */
  | { readonly t: 'subtask-ended'; readonly key: string }
  | { readonly t: 'subtask-finished' }
  | { readonly t: 'ack'; readonly ack: CheckpointAck }
  | { readonly t: 'decline'; readonly checkpointId: number; readonly reason: string }

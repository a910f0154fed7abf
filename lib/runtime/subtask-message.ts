import type { CheckpointBarrier } from '../checkpoint/checkpoint-types.js'
import type { ChannelElement } from './record-batch.js'

/** The messages a subtask actor handles. */
export type SubtaskMessage =
  | { readonly t: 'start' }
  /** An element of input channel `channel`: a batch or a control element. */
  | { readonly t: 'input'; readonly channel: number; readonly element: ChannelElement }
  /** The receiver of output `writer`'s channel to subtask `target` consumed `n` elements. */
  | { readonly t: 'credit'; readonly writer: number; readonly target: number; readonly n: number }
  /** Go on processing (self-sent, to yield between turns). */
  | { readonly t: 'run' }
  /** Run a callback inside the actor: timers and finished async work. */
  | { readonly t: 'call'; readonly fn: () => void }
  | { readonly t: 'fail'; readonly error: unknown }
  /** Snapshot now (sources, and subtasks whose input has ended): the barrier comes from the coordinator. */
  | { readonly t: 'trigger-checkpoint'; readonly barrier: CheckpointBarrier; readonly stopSource?: boolean }
  | { readonly t: 'checkpoint-complete'; readonly checkpointId: number }
  | { readonly t: 'checkpoint-abort'; readonly checkpointId: number }
  /** The final checkpoint is complete: close and finish. */
  | { readonly t: 'finish' }

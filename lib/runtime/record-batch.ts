import type { CheckpointBarrier } from '../checkpoint/checkpoint-types.js'
import type { Key } from '../state/key-groups.js'

/**
 * Records travelling together from one subtask to another. Parallel arrays instead of an object per
 * record: timestamps only when some record has one; keys and key groups only on keyed edges, so the
 * receiver does not recompute them.
 */
export interface RecordBatch {
  readonly values: unknown[]
  timestamps: Array<number | undefined> | undefined
  keys: Key[] | undefined
  keyGroups: number[] | undefined
}

/** Control elements travel in band, in order with the records of their channel. */
export type ControlElement =
  | { readonly kind: 'watermark'; readonly timestamp: number }
  | { readonly kind: 'watermark-status'; readonly idle: boolean }
  | { readonly kind: 'end-of-input' }
  | CheckpointBarrier

/** What a channel carries. */
export type ChannelElement = { readonly kind: 'batch'; readonly batch: RecordBatch } | ControlElement

/**
 * An empty batch, with key arrays when the edge is keyed.
 *
 * @example
 * const batch = newBatch(true, 512) // arrays allocated at full size; the writer fills them by index
 */
export function newBatch(keyed: boolean, capacity = 0): RecordBatch {
  return {
    values: new Array(capacity),
    timestamps: undefined,
    keys: keyed ? new Array(capacity) : undefined,
    keyGroups: keyed ? new Array<number>(capacity) : undefined,
  }
}

import type { CheckpointBarrier } from '../checkpoint/checkpoint-types.js'
import type { Key } from '../state/key-groups.js'

/** Where a batch goes back to once its receiver is done with it (see {@link releaseBatch}). */
const RETURN_TO: unique symbol = Symbol('the channel writer a batch returns to')

/**
 * Records travelling together from one subtask to another. Parallel arrays instead of an object per
 * record: timestamps only when some record has one; keys and key groups only on keyed edges, so the
 * receiver does not recompute them.
 *
 * A batch sent within one thread carries, under a symbol, the way back to its writer, which fills it
 * again once its receiver has released it: the arrays stay warm in the cache and the young generation
 * is not filled with them (fewer scavenges, which copy whatever state is alive: the window contents
 * of case c). Symbol-keyed properties do not survive a structured clone nor the state serializer, so a
 * batch that crossed threads or came from a checkpoint is never returned.
 */
export interface RecordBatch {
  readonly values: unknown[]
  timestamps: Array<number | undefined> | undefined
  keys: Key[] | undefined
  keyGroups: number[] | undefined
  [RETURN_TO]?: ((batch: RecordBatch) => void) | undefined
}

/**
 * Marks `batch` as going back to `returnTo` once released.
 *
 * @example
 * returnBatchTo(batch, (b) => spare.push(b))
 */
export function returnBatchTo(batch: RecordBatch, returnTo: (batch: RecordBatch) => void): void {
  batch[RETURN_TO] = returnTo
}

/**
 * The receiver is done with `batch` and holds no reference to it nor to its arrays: its writer may
 * overwrite them. Only a receiver that never keeps batches after processing them may call this (not
 * while an unaligned checkpoint may hold queued batches as in-flight data).
 *
 * @example
 * processBatch(batch); releaseBatch(batch)
 */
export function releaseBatch(batch: RecordBatch): void {
  const returnTo = batch[RETURN_TO]
  if (returnTo === undefined) return
  batch[RETURN_TO] = undefined
  returnTo(batch)
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
    [RETURN_TO]: undefined,
  }
}

import { randomUUID } from 'node:crypto'
import type { PartFile } from './part-file.js'
import {
  type HeldPartRef,
  type PartFileRef,
  type TransactionState,
  decodeTransactionState,
} from './transaction-state.js'

/** The subtask writing a live transaction (SubtaskBuckets): what the sink asks of it. */
export interface TransactionOwner {
  readonly nextPartCounter: number
  write(txn: BucketTransaction, value: unknown, timestamp: number | undefined): void
  preCommit(txn: BucketTransaction): Promise<void>
  committed(txn: BucketTransaction): void
  abort(txn: BucketTransaction): Promise<void>
}

/**
 * The part files a subtask wrote between two checkpoints: the unit the two-phase commit pre-commits,
 * commits and aborts. A live transaction has its `owner` (the subtask writing it) and its parts; one
 * read back from a checkpoint only knows its parts by name.
 *
 * @example
 * const txn = openTransaction(buckets, 0, 2) // written to by buckets.write(txn, value, ts)
 */
export interface BucketTransaction {
  readonly id: string
  readonly subtask: number
  readonly parallelism: number
  readonly owner: TransactionOwner | undefined
  /** The part taking records in each bucket. */
  readonly active: Map<string, PartFile>
  /** Every part opened in this transaction, rolled ones included, in order. */
  readonly parts: PartFile[]
  /** For a transaction read back from a checkpoint: its state. */
  readonly restored: TransactionState | undefined
  /** With compaction, once pre-committed: what its commit publishes, deletes, and leaves held. */
  compaction: CompactedTransaction | undefined
}

/**
 * What compaction made of a pre-committed transaction's parts and the held parts it took over.
 * `merged` are the files compaction created, visible or not yet (discarded when the transaction is).
 */
export interface CompactedTransaction {
  readonly publish: PartFileRef[]
  readonly removed: PartFileRef[]
  held: HeldPartRef[]
  readonly merged: PartFileRef[]
}

/**
 * A new, empty transaction of a subtask.
 *
 * @example
 * const txn = openTransaction(buckets, context.subtask, context.parallelism)
 */
export function openTransaction(owner: TransactionOwner, subtask: number, parallelism: number): BucketTransaction {
  return {
    id: randomUUID(),
    subtask,
    parallelism,
    owner,
    active: new Map(),
    parts: [],
    restored: undefined,
    compaction: undefined,
  }
}

/**
 * The part files a transaction's commit makes visible: its parts that exist on the store (a part gets
 * its file with its first bytes), or with compaction what compaction left to publish.
 *
 * @example
 * for (const ref of partRefs(txn)) console.log(`${ref.bucket}/${ref.inProgress} -> ${ref.name}`)
 */
export function partRefs(txn: BucketTransaction): readonly PartFileRef[] {
  if (txn.restored !== undefined) return txn.restored.parts
  if (txn.compaction !== undefined) return txn.compaction.publish
  return writtenParts(txn)
}

/**
 * The hidden files a transaction's commit deletes once it made its parts visible: the sources of the
 * files compaction merged.
 *
 * @example
 * await writer.discard(basePath, removedRefs(txn))
 */
export function removedRefs(txn: BucketTransaction): readonly PartFileRef[] {
  if (txn.restored !== undefined) return txn.restored.version === 2 ? txn.restored.removed : []
  return txn.compaction?.removed ?? []
}

/**
 * Every file a live transaction created on the store (its parts, and the files compaction merged them
 * into): what aborting it deletes.
 *
 * @example
 * await writer.discard(basePath, createdRefs(txn))
 */
export function createdRefs(txn: BucketTransaction): readonly PartFileRef[] {
  if (txn.restored !== undefined) return txn.restored.parts
  return [...writtenParts(txn), ...(txn.compaction?.merged ?? [])]
}

function writtenParts(txn: BucketTransaction): PartFileRef[] {
  const refs: PartFileRef[] = []
  for (const part of txn.parts) {
    const ref = part.ref
    if (ref !== undefined) refs.push(ref)
  }
  return refs
}

/**
 * The transaction as checkpoint state; `nextCounter` is the subtask's part counter now.
 *
 * @example
 * const state = transactionToState(txn, 12)
 */
export function transactionToState(txn: BucketTransaction, nextCounter: number): TransactionState {
  const common = {
    kind: 'bucketing-file-sink',
    id: txn.id,
    subtask: txn.subtask,
    parallelism: txn.parallelism,
    nextCounter,
    parts: [...partRefs(txn)],
  } as const
  const held = txn.compaction?.held ?? (txn.restored?.version === 2 ? txn.restored.held : [])
  const removed = removedRefs(txn)
  // version 1 while compaction adds nothing, so that a sink without it restores from older code too
  if (held.length === 0 && removed.length === 0) return { ...common, version: 1 }
  return { ...common, version: 2, held: [...held], removed: [...removed] }
}

/**
 * A transaction read back from a checkpoint, to be committed again or aborted.
 *
 * @example
 * const txn = transactionFromState(JSON.parse(text))
 */
export function transactionFromState(state: unknown): BucketTransaction {
  const restored = decodeTransactionState(state)
  return {
    id: restored.id,
    subtask: restored.subtask,
    parallelism: restored.parallelism,
    owner: undefined,
    active: new Map(),
    parts: [],
    restored,
    compaction: undefined,
  }
}

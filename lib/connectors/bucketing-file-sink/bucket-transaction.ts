import { randomUUID } from 'node:crypto'
import type { PartFile } from './part-file.js'
import { type PartFileRef, type TransactionStateV1, decodeTransactionState } from './transaction-state.js'

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
  readonly restored: TransactionStateV1 | undefined
}

/**
 * A new, empty transaction of a subtask.
 *
 * @example
 * const txn = openTransaction(buckets, context.subtask, context.parallelism)
 */
export function openTransaction(owner: TransactionOwner, subtask: number, parallelism: number): BucketTransaction {
  return { id: randomUUID(), subtask, parallelism, owner, active: new Map(), parts: [], restored: undefined }
}

/**
 * The part files of a transaction that exist on the store (a part gets its file with its first bytes).
 *
 * @example
 * for (const ref of partRefs(txn)) console.log(`${ref.bucket}/${ref.inProgress} -> ${ref.name}`)
 */
export function partRefs(txn: BucketTransaction): readonly PartFileRef[] {
  if (txn.restored !== undefined) return txn.restored.parts
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
export function transactionToState(txn: BucketTransaction, nextCounter: number): TransactionStateV1 {
  return {
    kind: 'bucketing-file-sink',
    version: 1,
    id: txn.id,
    subtask: txn.subtask,
    parallelism: txn.parallelism,
    nextCounter,
    parts: [...partRefs(txn)],
  }
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
  }
}

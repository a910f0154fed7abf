import { StateError, describeValue } from '../../errors.js'

/** A part file as a checkpoint names it: where it is, and the name it gets when committed. */
export interface PartFileRef {
  /** Bucket id: the directory under the base path ('' for the base path). */
  readonly bucket: string
  /** The finished name. */
  readonly name: string
  /** The hidden name it has until committed. */
  readonly inProgress: string
  /**
   * What the store's `RecoverableWriter` needs beyond the names to commit or resume the part (an
   * S3 upload id and its parts' etags; a valid length); absent for a renamed file closed for commit.
   */
  readonly recoverable?: Readonly<Record<string, unknown>>
}

/**
 * A bucketing file sink transaction in a checkpoint, version 1. Paths are relative to the sink's base
 * path, so output and checkpoints can be moved together. `nextCounter` is the subtask's part counter
 * when the state was taken, so a restored subtask never reuses a part name.
 */
export interface TransactionStateV1 {
  readonly kind: 'bucketing-file-sink'
  readonly version: 1
  readonly id: string
  readonly subtask: number
  readonly parallelism: number
  readonly nextCounter: number
  readonly parts: readonly PartFileRef[]
}

/** A closed part kept hidden for a later compaction: its size and how many checkpoints it has waited. */
export interface HeldPartRef {
  readonly part: PartFileRef
  readonly bytes: number
  readonly checkpoints: number
}

/**
 * Version 2, written by a sink with compaction: `parts` are the files the commit makes visible (merged
 * files among them), `removed` the hidden files merged into them, deleted once the commit made them
 * visible, and `held` the hidden parts waiting for a later compaction. A held part is named by exactly
 * one transaction of a checkpoint: the latest one pre-committed, which took it over from its predecessor.
 */
export interface TransactionStateV2 extends Omit<TransactionStateV1, 'version'> {
  readonly version: 2
  readonly held: readonly HeldPartRef[]
  readonly removed: readonly PartFileRef[]
}

/** A bucketing file sink transaction in a checkpoint, of any version this code reads. */
export type TransactionState = TransactionStateV1 | TransactionStateV2

/**
 * True for a transaction state this version of the sink reads.
 *
 * @example
 * isTransactionState({ kind: 'bucketing-file-sink', version: 1, id: 'a', subtask: 0, parallelism: 1, nextCounter: 0, parts: [] }) // true
 */
export function isTransactionState(state: unknown): state is TransactionState {
  if (state === null || typeof state !== 'object') return false
  const s = state as Omit<Partial<TransactionStateV2>, 'version'> & { version?: unknown }
  return (
    s.kind === 'bucketing-file-sink' &&
    (s.version === 1 ||
      (s.version === 2 &&
        Array.isArray(s.held) &&
        s.held.every(isHeldPartRef) &&
        Array.isArray(s.removed) &&
        s.removed.every(isPartFileRef))) &&
    typeof s.id === 'string' &&
    wholeNumber(s.subtask) &&
    wholeNumber(s.parallelism) &&
    wholeNumber(s.nextCounter) &&
    Array.isArray(s.parts) &&
    s.parts.every(isPartFileRef)
  )
}

/**
 * Reads a transaction state back from a checkpoint; a StateError 'ERR_STATE_INCOMPATIBLE' names what is
 * wrong when it is not one (another sink's state under this uid, or a version this code cannot read).
 *
 * @example
 * const state = decodeTransactionState(JSON.parse(text))
 */
export function decodeTransactionState(state: unknown): TransactionState {
  if (isTransactionState(state)) return state
  const s = state as { kind?: unknown; version?: unknown } | null
  const why =
    s?.kind === 'bucketing-file-sink' && s.version !== 1 && s.version !== 2
      ? `version ${describeValue(s.version)} is not one this sink reads (1, 2)`
      : 'it is not a bucketing file sink transaction'
  throw new StateError(
    'ERR_STATE_INCOMPATIBLE',
    `bucketingFileSink: cannot restore transaction state ${describeValue(state)}: ${why}`,
  )
}

function isHeldPartRef(held: unknown): held is HeldPartRef {
  const h = held as Partial<HeldPartRef> | null
  return (
    h !== null && typeof h === 'object' && isPartFileRef(h.part) && wholeNumber(h.bytes) && wholeNumber(h.checkpoints)
  )
}

function isPartFileRef(ref: unknown): ref is PartFileRef {
  if (ref === null || typeof ref !== 'object') return false
  const r = ref as Partial<PartFileRef>
  return (
    typeof r.bucket === 'string' &&
    safeBucket(r.bucket) &&
    safeName(r.name) &&
    safeName(r.inProgress) &&
    (r.recoverable === undefined ||
      (r.recoverable !== null && typeof r.recoverable === 'object' && !Array.isArray(r.recoverable)))
  )
}

/** A state read from a checkpoint names files to rename and delete: none of them may lie outside the base path. */
function safeBucket(bucket: string): boolean {
  return (
    bucket === '' ||
    (!bucket.startsWith('/') &&
      !/[\\\0]/.test(bucket) &&
      bucket.split('/').every((s) => s !== '' && s !== '.' && s !== '..'))
  )
}

function safeName(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name)
}

function wholeNumber(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}

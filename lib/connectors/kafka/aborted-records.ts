/**
 * What a read_committed consumer sees of one partition's Fetch answer, decided as Kafka's own Java
 * consumer decides it (`CompletedFetch`), not by kafkajs's filter, which lets records of aborted
 * transactions through: it takes the broker's list of aborted transactions in the order given (the
 * order of their abort markers, not of their first offsets) and starts at most one of them per record,
 * so a transaction that began before an earlier-aborted one, or two that began before the fetch
 * offset, are read as committed.
 */

/** The record batch a decoded record came from (kafkajs's `batchContext`). */
export interface RecordBatchContext {
  readonly firstOffset: string
  readonly lastOffsetDelta: number
  readonly producerId: string
  readonly inTransaction: boolean
  readonly isControlBatch: boolean
}

/** One entry of a Fetch answer's `abortedTransactions`: a transaction aborted in the fetched range. */
export interface AbortedTransaction {
  readonly producerId: string
  readonly firstOffset: string
}

/** A decoded record, as far as the filter needs it; records of the old message format have no batch. */
export interface BatchedRecord {
  readonly key: Buffer | null
  readonly batchContext?: RecordBatchContext
}

/** Control record type of an abort marker: the key is version (int16) then type (int16). */
const ABORT_MARKER = 0

/**
 * The records of `records` (one partition of a read_committed Fetch answer, in offset order) that are
 * neither control records nor in a transaction the broker lists as aborted. A batch is aborted when it
 * is transactional and its producer has an aborted transaction that began at or before the batch's
 * last offset and whose abort marker has not been passed yet.
 *
 * @example
 * const visible = committedRecords(partitionData.messages, partitionData.abortedTransactions)
 */
export function committedRecords<M extends BatchedRecord>(
  records: readonly M[],
  abortedTransactions: readonly AbortedTransaction[] | null | undefined,
): M[] {
  const pending = [...(abortedTransactions ?? [])].sort((a, b) => compareOffsets(a.firstOffset, b.firstOffset))
  const aborting = new Set<string>()
  const visible: M[] = []
  let next = 0
  let batch: RecordBatchContext | undefined
  for (const record of records) {
    const context = record.batchContext
    if (context === undefined) {
      visible.push(record)
      continue
    }
    if (context !== batch) {
      batch = context
      if (next < pending.length) {
        const last = BigInt(context.firstOffset) + BigInt(context.lastOffsetDelta)
        while (next < pending.length && BigInt(pending[next]!.firstOffset) <= last)
          aborting.add(pending[next++]!.producerId)
      }
    }
    if (context.isControlBatch) {
      if (isAbortMarker(record.key)) aborting.delete(context.producerId)
    } else if (!(context.inTransaction && aborting.has(context.producerId))) {
      visible.push(record)
    }
  }
  return visible
}

function isAbortMarker(key: Buffer | null): boolean {
  return key !== null && key.length >= 4 && key.readInt16BE(2) === ABORT_MARKER
}

function compareOffsets(a: string, b: string): number {
  const difference = BigInt(a) - BigInt(b)
  return difference < 0n ? -1 : difference > 0n ? 1 : 0
}

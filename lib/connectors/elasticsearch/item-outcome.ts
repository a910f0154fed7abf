/** One item of a bulk answer, as Elasticsearch writes it under the action's name. */
export interface BulkResponseItem {
  readonly status: number
  readonly result?: string
  readonly error?: ItemError
}

/** An item's error and the chain of its causes (a script's failure names what failed in `caused_by`). */
export interface ItemError {
  readonly type?: string
  readonly reason?: string
  readonly caused_by?: ItemError
}

/**
 * What became of one item: done; `retry` (429, es_rejected_execution_exception, 5xx: the cluster is
 * busy or a shard is unavailable, so the same item may pass later); `conflict` (409: the version,
 * sequence number or existence the action required does not hold); `invalid` (other 4xx, mapping and
 * parse errors: sending it again cannot help).
 */
export type ItemOutcome = 'done' | 'retry' | 'conflict' | 'invalid'

/** The failure reasons counted in the metrics, one counter each. */
export type FailureReason = 'rejected' | 'serverError' | 'conflict' | 'invalid' | 'unreachable'

/**
 * The outcome of one bulk answer item. A delete of a missing document (404, result not_found) is done.
 *
 * @example
 * itemOutcome({ status: 429, error: { type: 'es_rejected_execution_exception' } }) // 'retry'
 * itemOutcome({ status: 400, error: { type: 'document_parsing_exception' } })       // 'invalid'
 */
export function itemOutcome(item: BulkResponseItem): ItemOutcome {
  if (item.error === undefined && item.status < 300) return 'done'
  if (item.error === undefined && item.status === 404 && item.result === 'not_found') return 'done'
  if (item.status === 429 || item.status >= 500 || item.error?.type === 'es_rejected_execution_exception')
    return 'retry'
  if (item.status === 409) return 'conflict'
  return 'invalid'
}

/**
 * The metric reason of a failed item.
 *
 * @example
 * failureReason({ status: 503 }) // 'serverError'
 */
export function failureReason(item: BulkResponseItem): FailureReason {
  if (item.status === 429 || item.error?.type === 'es_rejected_execution_exception') return 'rejected'
  if (item.status >= 500) return 'serverError'
  if (item.status === 409) return 'conflict'
  return 'invalid'
}

/**
 * The item's failure as one line: status, type and reason, then the reasons of its causes.
 *
 * @example
 * describeItemError({ status: 400, error: { type: 'mapper_parsing_exception', reason: 'failed to parse field [n]' } })
 * // '400 mapper_parsing_exception: failed to parse field [n]'
 * describeItemError({ status: 400, error: { type: 'illegal_argument_exception', reason: 'failed to execute script',
 *   caused_by: { type: 'script_exception', reason: 'runtime error', caused_by: { type: 'null_pointer_exception', reason: 'n is null' } } } })
 * // '400 illegal_argument_exception: failed to execute script (script_exception: runtime error; null_pointer_exception: n is null)'
 */
export function describeItemError(item: BulkResponseItem): string {
  const causes: string[] = []
  for (let cause = item.error?.caused_by; cause !== undefined; cause = cause.caused_by)
    causes.push(cause.type === undefined ? (cause.reason ?? '') : `${cause.type}: ${cause.reason ?? ''}`)
  const because = causes.length === 0 ? '' : ` (${causes.join('; ')})`
  return `${item.status} ${item.error?.type ?? 'error'}: ${item.error?.reason ?? ''}${because}`
}

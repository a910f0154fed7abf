import type { ElasticsearchAction } from './options.js'

/** One action ready for a bulk request: its NDJSON lines, their size and the record it came from. */
export interface BulkItem {
  readonly action: ElasticsearchAction
  readonly record: unknown
  /** The action's NDJSON: the metadata line and, but for delete, the source line; each ends with `\n`. */
  readonly lines: string
  readonly bytes: number
  /** `index/id` when the action names a document: items of one key keep their order. */
  readonly key: string | undefined
}

const OPERATIONS = new Set(['index', 'create', 'update', 'delete'])

/**
 * Encodes one action as the bulk API's NDJSON. Throws a TypeError naming what is wrong with an action
 * that is not one (the writer treats the record as invalid).
 *
 * @example
 * bulkItem({ type: 'index', index: 'logs', id: '1', document: { a: 1 } }, record).lines
 * // '{"index":{"_index":"logs","_id":"1"}}\n{"a":1}\n'
 */
export function bulkItem(action: ElasticsearchAction, record: unknown): BulkItem {
  if (typeof action !== 'object' || action === null || !OPERATIONS.has(action.type))
    throw new TypeError('an action needs type index, create, update or delete')
  if (typeof action.index !== 'string' || action.index === '') throw new TypeError('an action needs an index')
  if (action.id !== undefined && (typeof action.id !== 'string' || action.id === ''))
    throw new TypeError('an action id must be a non-empty string')
  const meta: Record<string, unknown> = { _index: action.index }
  if (action.id !== undefined) meta._id = action.id
  if (action.routing !== undefined) meta.routing = action.routing
  if (action.version !== undefined) meta.version = action.version
  if (action.versionType !== undefined) meta.version_type = action.versionType
  if (action.ifSeqNo !== undefined) meta.if_seq_no = action.ifSeqNo
  if (action.ifPrimaryTerm !== undefined) meta.if_primary_term = action.ifPrimaryTerm
  let source: string | undefined
  switch (action.type) {
    case 'index':
    case 'create':
      if (action.pipeline !== undefined) meta.pipeline = action.pipeline
      if (typeof action.document !== 'object' || action.document === null)
        throw new TypeError(`a ${action.type} action needs a document object`)
      source = JSON.stringify(action.document)
      break
    case 'update': {
      if (action.id === undefined) throw new TypeError('an update action needs an id')
      if (action.retryOnConflict !== undefined) meta.retry_on_conflict = action.retryOnConflict
      if (action.doc === undefined && action.script === undefined)
        throw new TypeError('an update action needs a doc or a script')
      const body: Record<string, unknown> = {}
      if (action.doc !== undefined) body.doc = action.doc
      if (action.docAsUpsert === true) body.doc_as_upsert = true
      if (action.script !== undefined) body.script = action.script
      if (action.scriptedUpsert === true) {
        if (action.script === undefined) throw new TypeError('scriptedUpsert needs a script')
        body.scripted_upsert = true
      }
      if (action.upsert !== undefined) body.upsert = action.upsert
      source = JSON.stringify(body)
      break
    }
    case 'delete':
      if (action.id === undefined) throw new TypeError('a delete action needs an id')
  }
  const lines = `${JSON.stringify({ [action.type]: meta })}\n${source === undefined ? '' : `${source}\n`}`
  return {
    action,
    record,
    lines,
    bytes: Buffer.byteLength(lines, 'utf8'),
    key: action.id === undefined ? undefined : `${action.index}/${action.id}`,
  }
}

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { bulkItem } from '../../../lib/connectors/elasticsearch/bulk-item.js'
import type { ElasticsearchAction } from '../../../lib/connectors/elasticsearch/options.js'
import { itemOutcome } from '../../../lib/connectors/elasticsearch/item-outcome.js'

/** The NDJSON of each action as the bulk API documents it, and the outcome of each answer item. */
const Encoding = suite('elasticsearch bulk items')

Encoding('index, create, update (script + upsert, doc + doc_as_upsert) and delete lines', () => {
  const lines = (action: ElasticsearchAction) => bulkItem(action, undefined).lines
  assert.is(
    lines({
      type: 'index',
      index: 'i',
      id: '1',
      routing: 'r',
      pipeline: 'p',
      version: 3,
      versionType: 'external',
      document: { a: 1 },
    }),
    '{"index":{"_index":"i","_id":"1","routing":"r","version":3,"version_type":"external","pipeline":"p"}}\n{"a":1}\n',
  )
  assert.is(lines({ type: 'create', index: 'i', document: { a: 1 } }), '{"create":{"_index":"i"}}\n{"a":1}\n')
  assert.is(
    lines({
      type: 'update',
      index: 'i',
      id: '1',
      retryOnConflict: 3,
      script: { source: 'ctx._source.n += params.n', params: { n: 1 } },
      upsert: { n: 1 },
    }),
    '{"update":{"_index":"i","_id":"1","retry_on_conflict":3}}\n{"script":{"source":"ctx._source.n += params.n","params":{"n":1}},"upsert":{"n":1}}\n',
  )
  assert.is(
    lines({
      type: 'update',
      index: 'i',
      id: '1',
      script: { source: 'ctx._source.n = 1' },
      upsert: {},
      scriptedUpsert: true,
    }),
    '{"update":{"_index":"i","_id":"1"}}\n{"script":{"source":"ctx._source.n = 1"},"scripted_upsert":true,"upsert":{}}\n',
  )
  assert.is(
    lines({ type: 'update', index: 'i', id: '1', doc: { n: 2 }, docAsUpsert: true, ifSeqNo: 4, ifPrimaryTerm: 1 }),
    '{"update":{"_index":"i","_id":"1","if_seq_no":4,"if_primary_term":1}}\n{"doc":{"n":2},"doc_as_upsert":true}\n',
  )
  assert.is(lines({ type: 'delete', index: 'i', id: '1' }), '{"delete":{"_index":"i","_id":"1"}}\n')
  const item = bulkItem({ type: 'index', index: 'i', id: 'é', document: { s: 'ü' } }, 'rec')
  assert.is(item.bytes, Buffer.byteLength(item.lines))
  assert.is(item.key, 'i/é')
  assert.is(item.record, 'rec')
})

Encoding('what is not an action is refused with a reason', () => {
  const refused = (action: unknown) => {
    try {
      bulkItem(action as ElasticsearchAction, undefined)
    } catch (error) {
      return (error as Error).message
    }
    return 'accepted'
  }
  assert.match(refused({ type: 'upsert', index: 'i' }), 'index, create, update or delete')
  assert.match(refused({ type: 'index', document: {} }), 'needs an index')
  assert.match(refused({ type: 'index', index: 'i', document: 'text' }), 'document object')
  assert.match(refused({ type: 'update', index: 'i', doc: {} }), 'needs an id')
  assert.match(refused({ type: 'update', index: 'i', id: '1' }), 'a doc or a script')
  assert.match(
    refused({ type: 'update', index: 'i', id: '1', doc: {}, scriptedUpsert: true }),
    'scriptedUpsert needs a script',
  )
  assert.match(refused({ type: 'delete', index: 'i' }), 'needs an id')
  assert.match(refused({ type: 'index', index: 'i', document: { n: 1n } }), 'BigInt')
})

Encoding('answer items: done, retry (429, rejected execution, 5xx), conflict (409), invalid (other 4xx)', () => {
  assert.is(itemOutcome({ status: 201, result: 'created' }), 'done')
  assert.is(itemOutcome({ status: 404, result: 'not_found' }), 'done')
  assert.is(itemOutcome({ status: 429, error: { type: 'es_rejected_execution_exception' } }), 'retry')
  assert.is(itemOutcome({ status: 500, error: { type: 'es_rejected_execution_exception' } }), 'retry')
  assert.is(itemOutcome({ status: 503, error: { type: 'unavailable_shards_exception' } }), 'retry')
  assert.is(itemOutcome({ status: 409, error: { type: 'version_conflict_engine_exception' } }), 'conflict')
  assert.is(itemOutcome({ status: 400, error: { type: 'document_parsing_exception' } }), 'invalid')
  assert.is(itemOutcome({ status: 404, error: { type: 'document_missing_exception' } }), 'invalid')
})

Encoding.run()

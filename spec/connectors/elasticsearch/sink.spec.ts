import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  type ElasticsearchAction,
  ElasticsearchSink,
  type ElasticsearchSinkOptions,
} from '../../../lib/connectors/elasticsearch/index.js'
import type { DeadLetter } from '../../../lib/runtime/output-tag.js'
import { MetricGroup } from '../../../lib/runtime/metric-group.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import {
  type ElasticsearchServer,
  MAPPING_ERROR,
  REJECTED,
  startElasticsearchServer,
  UNAVAILABLE,
} from '../../support/elasticsearch-server.js'
import { waitFor } from '../../support/wait-for.js'
import { sinkWriter } from './support.js'

/**
 * The sink against the loopback bulk-API server (spec/support/elasticsearch-server.ts): actions and
 * their metadata, bulk flushing, per-item failure handling and retries, and what a barrier waits for.
 */
const Sink = suite('elasticsearch sink')
let es: ElasticsearchServer
let n = 0

Sink.before(async () => {
  es = await startElasticsearchServer()
})
Sink.after.each(() => {
  es.itemFault = undefined
  es.requestFault = undefined
  es.delayMs = 0
})
Sink.after(async () => {
  await es.stop()
})

interface Event {
  readonly id: string
  readonly n: number
}

/** A fresh index name per test: the server is shared by the file. */
const freshIndex = () => `events-${++n}`

/** A writer of the file's node, retrying bulk requests after 1–5 ms. */
const writerFor = <T = Event>(
  options: Omit<ElasticsearchSinkOptions<T>, 'nodes'> & { nodes?: string },
  letters: DeadLetter[] = [],
) => sinkWriter<T>({ nodes: es.url, bulkRetry: { initialDelayMs: 1, maxDelayMs: 5 }, ...options }, letters)

const indexing =
  (index: string) =>
  (e: Event): ElasticsearchAction => ({ type: 'index', index, id: e.id, document: e })

const events = (count: number, from = 0): Event[] =>
  Array.from({ length: count }, (_, i) => ({ id: `e${from + i}`, n: from + i }))

Sink('indexes every record; a barrier returns once every action before it is acknowledged', async () => {
  const index = freshIndex()
  const { writer, metrics } = writerFor({ emitter: indexing(index), maxActions: 10 })
  for (const e of events(25)) writer.write(e, undefined)
  await writer.snapshotState()
  assert.is(es.documents(index).size, 25)
  assert.equal(es.sources(index).get('e7'), { id: 'e7', n: 7 })
  assert.equal(
    es.received.filter((r) => r.actions[0]?.meta._index === index).map((r) => r.actions.length),
    [10, 10, 5],
    'bulk requests of maxActions',
  )
  assert.is(metrics.value('actions'), 25)
  assert.is(metrics.value('requests'), 3)
  assert.is(metrics.value('inFlightRecords'), 0)
  assert.ok((metrics.value('bulkLatencyP99Ms') ?? 0) >= (metrics.value('bulkLatencyP50Ms') ?? -1))
  assert.ok((metrics.value('bulkLatencyP50Ms') ?? 0) > 0, 'bulk latency measured')
  await writer.close()
})

Sink('an emitter gives zero or more actions, with routing, pipeline, versions and every operation', async () => {
  const index = freshIndex()
  const { writer } = writerFor<{ kind: string; id: string; v?: number }>({
    emitter: (r) => {
      switch (r.kind) {
        case 'skip':
          return undefined
        case 'two':
          return [
            { type: 'index', index, id: r.id, routing: 'r1', pipeline: 'p', document: { a: 1, nested: { x: 1 } } },
            { type: 'update', index, id: r.id, doc: { b: 2, nested: { y: 2 } } },
          ]
        case 'upsert':
          return { type: 'update', index, id: r.id, doc: { c: 3 }, docAsUpsert: true }
        case 'external':
          return { type: 'index', index, id: r.id, version: r.v!, versionType: 'external', document: { v: r.v } }
        default:
          return { type: 'delete', index, id: r.id }
      }
    },
  })
  writer.write({ kind: 'two', id: 'a' }, undefined)
  writer.write({ kind: 'skip', id: 'x' }, undefined)
  writer.write({ kind: 'upsert', id: 'b' }, undefined)
  writer.write({ kind: 'external', id: 'c', v: 7 }, undefined)
  writer.write({ kind: 'upsert', id: 'd' }, undefined)
  writer.write({ kind: 'delete', id: 'd' }, undefined)
  writer.write({ kind: 'delete', id: 'never-written' }, undefined)
  await writer.flush()
  const docs = es.documents(index)
  assert.equal(docs.get('a')?._source, { a: 1, nested: { x: 1, y: 2 }, b: 2 })
  assert.is(docs.get('a')?._routing, 'r1')
  assert.is(docs.get('a')?._version, 2)
  assert.equal(docs.get('b')?._source, { c: 3 })
  assert.is(docs.get('c')?._version, 7)
  assert.not.ok(docs.has('d'))
  const first = es.actions().find((a) => a.meta._index === index)!
  assert.equal(first.meta, { _index: index, _id: 'a', routing: 'r1', pipeline: 'p' })
  await writer.close()
})

Sink('429 and 5xx items are resent alone, in order, until accepted; the others are not resent', async () => {
  const index = freshIndex()
  const failing = new Map([
    ['e3', 2],
    ['e5', 1],
  ])
  es.itemFault = (action) => {
    const left = failing.get(String(action.meta._id))
    if (left === undefined || left === 0 || action.meta._index !== index) return undefined
    failing.set(String(action.meta._id), left - 1)
    return action.meta._id === 'e3' ? REJECTED : UNAVAILABLE
  }
  const { writer, metrics } = writerFor({ emitter: indexing(index), maxActions: 10 })
  for (const e of events(10)) writer.write(e, undefined)
  await writer.flush()
  assert.is(es.documents(index).size, 10)
  const requests = es.received
    .filter((r) => r.actions[0]?.meta._index === index)
    .map((r) => r.actions.map((a) => a.meta._id))
  assert.equal(requests, [events(10).map((e) => e.id), ['e3', 'e5'], ['e3']])
  assert.is(metrics.value('retriedActions'), 3)
  assert.is(metrics.value('failuresRejected'), 2)
  assert.is(metrics.value('failuresServerError'), 1)
  await writer.close()
})

Sink('an item after a resent one of the same document is resent after it: the last action stays last', async () => {
  const index = freshIndex()
  let once = true
  es.itemFault = (action) => {
    if (action.meta._index !== index || action.source?.n !== 1 || !once) return undefined
    once = false
    return REJECTED
  }
  const { writer } = writerFor<{ n: number }>({
    emitter: (r) => ({ type: 'index', index, id: 'same', document: r }),
  })
  writer.write({ n: 1 }, undefined)
  writer.write({ n: 2 }, undefined)
  await writer.flush()
  assert.equal(es.sources(index).get('same'), { n: 2 })
  await writer.close()
})

Sink('a whole request refused with 429 or 503, or a dropped connection, is sent again', async () => {
  const index = freshIndex()
  const faults = [{ status: 429 }, { status: 503 }, { drop: true as const }, { drop: true as const, afterApply: true }]
  let request = 0
  es.requestFault = () => faults[request++]
  const { writer, metrics } = writerFor({ emitter: indexing(index), requestTimeoutMs: 2_000 })
  for (const e of events(5)) writer.write(e, undefined)
  await writer.flush()
  assert.is(es.documents(index).size, 5)
  assert.is(metrics.value('requests'), 5)
  assert.is(metrics.value('failuresRejected'), 5)
  assert.is(metrics.value('failuresServerError'), 5)
  assert.is(metrics.value('failuresUnreachable'), 10)
  await writer.close()
})

Sink('a node slower than requestTimeoutMs: each request times out and is retried, then ERR_CONNECT', async () => {
  const index = freshIndex()
  // undici checks its timeouts about every 500 ms: the node answers well after that
  es.delayMs = 2_000
  const { writer, metrics } = writerFor({
    emitter: indexing(index),
    requestTimeoutMs: 100,
    bulkRetry: { maxRetries: 1, initialDelayMs: 1, maxDelayMs: 2 },
  })
  await writer.flush()
  writer.write({ id: 'slow', n: 1 }, undefined)
  const error = (await writer.flush().catch((e) => e)) as Error & { code?: string }
  assert.is(error.code, 'ERR_CONNECT')
  assert.match(error.message, /cannot reach the cluster after 2 attempt\(s\): .*timed out/i)
  assert.is(metrics.value('failuresUnreachable'), 2)
  await writer.close()
})

Sink('retries used up fail the writer with ERR_SEND naming the last failure', async () => {
  const index = freshIndex()
  es.itemFault = (action) => (action.meta._id === 'e1' ? REJECTED : undefined)
  const { writer } = writerFor({
    emitter: indexing(index),
    bulkRetry: { maxRetries: 2, initialDelayMs: 1, maxDelayMs: 2 },
  })
  for (const e of events(3)) writer.write(e, undefined)
  const error = (await writer.flush().catch((e) => e)) as Error & { code?: string }
  assert.is(error.code, 'ERR_SEND')
  assert.match(error.message, /1 action\(s\) still failing after 3 attempt\(s\): 429 es_rejected_execution_exception/)
  assert.is(es.documents(index).size, 2)
  await writer.close()
})

Sink('409: onConflict fail (default) fails the job with ERR_VERSION_CONFLICT', async () => {
  const index = freshIndex()
  const { writer } = writerFor<Event>({ emitter: (e) => ({ type: 'create', index, id: e.id, document: e }) })
  writer.write({ id: 'a', n: 1 }, undefined)
  writer.write({ id: 'a', n: 2 }, undefined)
  const error = (await writer.flush().catch((e) => e)) as Error & { code?: string }
  assert.is(error.code, 'ERR_VERSION_CONFLICT')
  assert.match(error.message, /409 version_conflict_engine_exception/)
  await writer.close()
})

Sink('409: onConflict ignore goes on (idempotent upserts: an older external version loses)', async () => {
  const index = freshIndex()
  const { writer, metrics } = writerFor<{ id: string; v: number }>({
    emitter: (r) => ({ type: 'index', index, id: r.id, version: r.v, versionType: 'external', document: r }),
    onConflict: 'ignore',
  })
  for (const v of [1, 3, 2, 3, 4]) writer.write({ id: 'a', v }, undefined)
  await writer.flush()
  assert.equal(es.sources(index).get('a'), { id: 'a', v: 4 })
  assert.is(metrics.value('ignoredConflicts'), 2)
  assert.is(metrics.value('failuresConflict'), 2)
  await writer.close()
})

Sink('409: onConflict dead-letter sends the record and the action with the reason', async () => {
  const index = freshIndex()
  const letters: DeadLetter[] = []
  const { writer } = writerFor<Event>(
    {
      emitter: (e) => ({ type: 'update', index, id: e.id, doc: e, ifSeqNo: 99, ifPrimaryTerm: 1 }),
      onConflict: 'dead-letter',
    },
    letters,
  )
  writer.write({ id: 'x', n: 1 }, undefined)
  await writer.flush()
  assert.is(letters.length, 1)
  assert.match(letters[0]!.reason, /^409 version_conflict_engine_exception/)
  assert.equal((letters[0]!.record as { record: Event }).record, { id: 'x', n: 1 })
  assert.is((letters[0]!.record as { action: ElasticsearchAction }).action.type, 'update')
  await writer.close()
})

Sink('400: onInvalid fail (default) fails with ERR_INVALID_RECORD', async () => {
  const index = freshIndex()
  es.itemFault = (action) => (action.meta._id === 'e1' ? MAPPING_ERROR : undefined)
  const { writer } = writerFor({ emitter: indexing(index) })
  for (const e of events(3)) writer.write(e, undefined)
  const error = (await writer.flush().catch((e) => e)) as Error & { code?: string }
  assert.is(error.code, 'ERR_INVALID_RECORD')
  assert.match(error.message, /index events-\d+\/e1: 400 document_parsing_exception/)
  await writer.close()
})

Sink('400: onInvalid drop counts and logs it, and goes on', async () => {
  const index = freshIndex()
  es.itemFault = (action) => (action.meta._id === 'e1' ? MAPPING_ERROR : undefined)
  const lines: string[] = []
  const metrics = new MetricGroup('elasticsearch')
  const logger = {
    debug() {},
    info() {},
    warn: (message: string, fields?: Record<string, unknown>) => lines.push(`${message} ${JSON.stringify(fields)}`),
    error() {},
    child() {
      return logger
    },
  }
  const writer = new ElasticsearchSink<Event>({
    nodes: es.url,
    emitter: indexing(index),
    onInvalid: 'drop',
  }).createWriter({
    subtask: 0,
    parallelism: 1,
    processingTime: systemProcessingTime,
    metrics,
    logger,
  })
  for (const e of events(3)) writer.write(e, undefined)
  await writer.flush()
  assert.equal([...es.documents(index).keys()].sort(), ['e0', 'e2'])
  assert.is(metrics.value('droppedActions'), 1)
  assert.is(lines.length, 1)
  assert.match(lines[0]!, /dropped invalid actions.*"dropped":1.*document_parsing_exception/)
  await writer.close()
})

Sink('a poison record reaches the dead-letter output with its reason, and the writer goes on', async () => {
  const index = freshIndex()
  es.itemFault = (action) => (action.meta._id === 'e1' ? MAPPING_ERROR : undefined)
  const letters: DeadLetter[] = []
  const { writer, metrics } = writerFor<Event>(
    {
      emitter: (e) => {
        if (e.n === 2) throw new Error('no index for n=2')
        return { type: 'index', index, id: e.id, document: e }
      },
      onInvalid: 'dead-letter',
    },
    letters,
  )
  for (const e of events(4)) writer.write(e, undefined)
  await writer.flush()
  assert.equal([...es.documents(index).keys()].sort(), ['e0', 'e3'])
  assert.equal(
    letters.map((l) => l.reason),
    [
      'the emitter gave no valid action: no index for n=2',
      `${MAPPING_ERROR.status} document_parsing_exception: ${MAPPING_ERROR.reason}`,
    ],
  )
  assert.is(metrics.value('deadLetters'), 2)
  await writer.close()
})

Sink('flushes at maxBytes and after flushIntervalMs', async () => {
  const index = freshIndex()
  const { writer } = writerFor<Event>({ emitter: indexing(index), maxBytes: 300, flushIntervalMs: 20 })
  for (const e of events(6)) writer.write(e, undefined)
  const sizes = () => es.received.filter((r) => r.actions[0]?.meta._index === index).map((r) => r.actions.length)
  await waitFor(() => sizes().reduce((a, b) => a + b, 0) === 6, { description: 'all six sent without a flush' })
  assert.ok(sizes().length >= 2, `more than one request under 300 bytes: ${sizes()}`)
  assert.ok(sizes().every((size) => size < 6))
  await writer.close()
})

Sink.run()

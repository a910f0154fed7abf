import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { ElasticsearchSink, type ElasticsearchSinkWriter } from '../../../lib/connectors/elasticsearch/index.js'
import { MetricGroup } from '../../../lib/runtime/metric-group.js'
import type { DeadLetter } from '../../../lib/runtime/output-tag.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { liveHeapBytes } from '../../support/live-heap.js'
import {
  type ElasticsearchServer,
  MAPPING_ERROR,
  REJECTED,
  startElasticsearchServer,
} from '../../support/elasticsearch-server.js'

/**
 * Flow control against a slow loopback node: `ready()` keeps records and bytes buffered or in flight
 * within their bounds, at most `maxInFlightRequests` bulk requests run at once, actions on one
 * document stay in order across concurrent requests; a barrier with guarantee 'none' does not wait;
 * and in a job, an invalid record reaches the job's dead letters while the job finishes.
 */
const Flow = suite('elasticsearch sink: flow control')
let es: ElasticsearchServer

Flow.before(async () => {
  es = await startElasticsearchServer()
})
Flow.after.each(() => {
  es.store = true
  es.delayMs = 0
  es.itemFault = undefined
  es.maxInFlight = 0
})
Flow.after(async () => {
  await es.stop()
})

function writerFor(
  options: Partial<ConstructorParameters<typeof ElasticsearchSink<{ id: string; body: string }>>[0]>,
): { writer: ElasticsearchSinkWriter<{ id: string; body: string }>; metrics: MetricGroup } {
  const metrics = new MetricGroup('elasticsearch')
  const sink = new ElasticsearchSink<{ id: string; body: string }>({
    nodes: es.url,
    emitter: (r) => ({ type: 'index', index: 'flow', id: r.id, document: r }),
    bulkRetry: { initialDelayMs: 1, maxDelayMs: 5 },
    ...options,
  })
  return {
    writer: sink.createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime, metrics }),
    metrics,
  }
}

/** Writes `count` records as the runtime would: while ready() answers a promise, it waits for it. */
async function drive(
  writer: ElasticsearchSinkWriter<{ id: string; body: string }>,
  count: number,
  body: string,
  observe: () => void,
): Promise<number> {
  let waits = 0
  for (let i = 0; i < count; i++) {
    const ready = writer.ready()
    if (ready !== undefined) {
      waits++
      await ready
    }
    writer.write({ id: `d${i}`, body }, undefined)
    observe()
  }
  return waits
}

Flow(
  'a slow node: records buffered or in flight stay within maxBufferedRecords, requests within maxInFlightRequests',
  async () => {
    es.delayMs = 20
    const { writer, metrics } = writerFor({ maxActions: 10, maxInFlightRequests: 2, flushIntervalMs: 5 })
    let maxRecords = 0
    let maxRequests = 0
    const waits = await drive(writer, 300, 'x', () => {
      maxRecords = Math.max(maxRecords, writer.inFlightRecords)
      maxRequests = Math.max(maxRequests, metrics.value('inFlightRequests') ?? 0)
    })
    await writer.flush()
    assert.ok(waits > 0, 'ready() held the writer back')
    assert.ok(maxRecords <= 30, `records held ${maxRecords} ≤ maxBufferedRecords 30`)
    assert.ok(
      maxRequests <= 2 && es.maxInFlight <= 2,
      `requests in flight ${maxRequests}, at the server ${es.maxInFlight}`,
    )
    assert.is(es.maxInFlight, 2, 'both request slots were used')
    assert.is(es.documents('flow').size, 300)
    await writer.close()
  },
)

Flow('large documents: bytes buffered or in flight stay within maxBufferedBytes', async () => {
  es.delayMs = 10
  const body = 'y'.repeat(1000)
  const { writer, metrics } = writerFor({ maxBytes: 4_000, maxBufferedBytes: 12_000, maxInFlightRequests: 1 })
  let maxBytes = 0
  const waits = await drive(writer, 120, body, () => {
    maxBytes = Math.max(maxBytes, writer.bufferedBytes)
  })
  await writer.flush()
  assert.ok(waits > 0, 'ready() held the writer back by bytes')
  // ready() is asked before each write, so one action (~1.1 kB) may pass the bound
  assert.ok(maxBytes <= 12_000 + 1_200, `bytes held ${maxBytes}`)
  assert.is(metrics.value('bufferedBytes'), 0)
  const large = es.received.filter((r) => r.actions[0]?.source?.body === body)
  assert.ok(large.length > 0 && large.every((r) => r.actions.length <= 3), 'requests within maxBytes')
  await writer.close()
})

Flow('with requests in flight at once, retried actions on one document never overtake later ones', async () => {
  const rejectedOnce = new Set<number>()
  es.itemFault = (action) => {
    const n = Number(action.source?.n)
    if (action.meta._index !== 'ordered' || n % 3 !== 0 || rejectedOnce.has(n)) return undefined
    rejectedOnce.add(n)
    return REJECTED
  }
  const metrics = new MetricGroup('elasticsearch')
  const sink = new ElasticsearchSink<number>({
    nodes: es.url,
    emitter: (n) => ({ type: 'index', index: 'ordered', id: `k${n % 4}`, document: { n } }),
    maxActions: 3,
    maxInFlightRequests: 4,
    bulkRetry: { initialDelayMs: 1, maxDelayMs: 3 },
  })
  const writer = sink.createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime, metrics })
  for (let n = 0; n < 200; n++) writer.write(n, undefined)
  await writer.flush()
  assert.ok((metrics.value('retriedActions') ?? 0) > 0, 'some actions were retried')
  for (let k = 0; k < 4; k++)
    assert.equal(es.sources('ordered').get(`k${k}`), { n: 196 + k }, `k${k} holds its last value`)
  await writer.close()
})

Flow('150 MB through a slow node: the live heap stays within the buffer bounds, not the volume', async () => {
  es.store = false
  es.delayMs = 5
  const body = 'z'.repeat(10_000)
  const { writer } = writerFor({ maxBytes: 1024 * 1024, maxInFlightRequests: 2 })
  const before = liveHeapBytes()
  let grown = 0
  let written = 0
  await drive(writer, 15_000, body, () => {
    if (++written % 1_500 === 0) grown = Math.max(grown, liveHeapBytes() - before)
  })
  await writer.flush()
  assert.is(es.acknowledged, 15_000)
  // bounded by maxBufferedBytes (3 MiB here) plus encoding and sockets; without ready() it is ~150 MB
  assert.ok(grown < 24 * 1024 * 1024, `live heap grew ${(grown / 2 ** 20).toFixed(1)} MiB`)
  await writer.close()
})

Flow("guarantee 'none': a barrier sends but does not wait for the answer", async () => {
  es.delayMs = 200
  const { writer } = writerFor({ guarantee: 'none' })
  writer.write({ id: 'late', body: '' }, undefined)
  await writer.snapshotState()
  assert.is(es.documents('flow').has('late'), false, 'not yet acknowledged when the barrier passed')
  await writer.flush()
  assert.is(es.documents('flow').has('late'), true)
  await writer.close()
})

Flow('in a job: an invalid record reaches the dead letters with its reason; the job finishes', async () => {
  es.itemFault = (action) => (action.meta._index === 'job' && action.meta._id === 'w13' ? MAPPING_ERROR : undefined)
  const env = StreamEnvironment.create({ parallelism: 1, logLevel: 'silent' })
  env.fromCollection(Array.from({ length: 50 }, (_, i) => i)).sinkTo(
    new ElasticsearchSink<number>({
      nodes: es.url,
      emitter: (i) => ({ type: 'index', index: 'job', id: `w${i}`, document: { i } }),
      onInvalid: 'dead-letter',
      maxActions: 8,
    }),
    { uid: 'es' },
  )
  const job = env.executeAsync('dead letters')
  const letters: DeadLetter[] = []
  job.deadLetters.subscribe((letter) => letters.push(letter))
  const result = await job.result
  assert.is(es.documents('job').size, 49)
  assert.is(letters.length, 1)
  assert.match(letters[0]!.reason, '400 document_parsing_exception')
  assert.equal((letters[0]!.record as { record: number }).record, 13)
  assert.ok(result.metrics.deadLetters >= 1)
})

Flow.run()

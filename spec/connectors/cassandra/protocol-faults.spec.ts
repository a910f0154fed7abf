import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  CassandraSink,
  type CassandraSinkOptions,
  type CassandraSinkWriter,
} from '../../../lib/connectors/cassandra/index.js'
import type { ConnectorError } from '../../../lib/errors.js'
import { createLogger } from '../../../lib/logging.js'
import type { SinkWriterContext } from '../../../lib/runtime/sink.js'
import type { ProcessingTimeService } from '../../../lib/time/processing-time.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { type CqlAnswer, type CqlFault, type CqlRequest, CqlTestServer } from '../../support/cql-server.js'
import { waitFor } from '../../support/wait-for.js'
import { writerContext } from './support.js'

/**
 * The sink's failure handling against the CQL native-protocol v4 test server (spec/support/cql-server.ts),
 * for the answers a real single node will not give on demand: Overloaded, Unavailable, Write_timeout of
 * each write type, Read_timeout, Invalid, and no answer. What the server kept (`received`, `rows`) is
 * the proof: how many times each statement was sent, and what landed.
 */
const Faults = suite('cassandra sink: protocol faults')
let node: CqlTestServer
const writers: Array<{ close(): Promise<void> }> = []

interface Order {
  id: number
  item: string
}

Faults.before.each(async () => {
  node = await CqlTestServer.start()
  node.defineTable('shop.orders', { id: 'int', item: 'text' }, ['id'])
  node.defineTable('shop.hits', { page: 'text', hits: 'counter' }, ['page'])
})
Faults.after.each(async () => {
  // A failed assertion leaves its writer open: close it here, else its driver keeps the process alive.
  await Promise.all(writers.splice(0).map((w) => w.close()))
  await node.close()
})

const INSERT = 'INSERT INTO shop.orders (id, item) VALUES (?, ?)'
const SECRET = 'hunter2-password'

/** Processing time that records every delay the writer asks for (the retry backoff). */
function recordingTime(): ProcessingTimeService & { delays: number[] } {
  const delays: number[] = []
  // the delay against the clock reading the writer scheduled from (`scheduleAt(now() + delay)`): reading
  // the clock again here could fall in the next millisecond (a backoff of 40 recorded as 39)
  let lastRead = systemProcessingTime.now()
  return {
    delays,
    now: () => {
      lastRead = systemProcessingTime.now()
      return lastRead
    },
    scheduleAt(timestamp, callback) {
      delays.push(timestamp - lastRead)
      return systemProcessingTime.scheduleAt(timestamp, callback)
    },
  }
}

/** Creates a writer that after.each closes. */
function open<T>(sinkOf: CassandraSink<T>, context: SinkWriterContext = writerContext()): CassandraSinkWriter<T> {
  const writer = sinkOf.createWriter(context)
  writers.push(writer)
  return writer
}

function sink(options: Partial<CassandraSinkOptions<Order>> = {}): CassandraSink<Order> {
  return new CassandraSink<Order>({
    contactPoints: [node.contactPoint],
    localDataCenter: node.dataCenter,
    credentials: { username: 'writer', password: SECRET },
    statement: (o) => ({ query: INSERT, params: [o.id, o.item] }),
    writeRetry: { initialDelayMs: 40, maxDelayMs: 1_000, multiplier: 2, maxRetries: 3 },
    ...options,
  })
}

/** Answers `fault` to the first `times` sends of the order with id `id`, then applies. */
function failOrder(id: number, fault: CqlFault, times: number): (r: CqlRequest) => CqlAnswer {
  let seen = 0
  return (request) => {
    if (!request.statements.some((s) => s.values[0] === id)) return 'apply'
    return seen++ < times ? fault : 'apply'
  }
}

const sendsOf = (id: number) => node.received.filter((r) => r.statements.some((s) => s.values[0] === id)).length
const ids = () =>
  node
    .rows('shop.orders')
    .map((r) => r.id as number)
    .sort((a, b) => a - b)

const TRANSIENT: ReadonlyArray<readonly [string, CqlFault]> = [
  ['overloaded (0x1001)', { kind: 'overloaded' }],
  ['unavailable (0x1000)', { kind: 'unavailable', required: 2, alive: 1 }],
  ['write timeout SIMPLE (0x1100)', { kind: 'write-timeout', writeType: 'SIMPLE' }],
  ['write timeout BATCH', { kind: 'write-timeout', writeType: 'BATCH' }],
  ['write timeout UNLOGGED_BATCH', { kind: 'write-timeout', writeType: 'UNLOGGED_BATCH' }],
  ['write timeout BATCH_LOG', { kind: 'write-timeout', writeType: 'BATCH_LOG' }],
  ['read timeout (0x1200)', { kind: 'read-timeout', dataPresent: false }],
]

for (const [name, fault] of TRANSIENT) {
  Faults(`${name}: retried with backoff (40, 80 ms) and applied on the third send; the others once each`, async () => {
    node.answer = failOrder(3, fault, 2)
    const context = { ...writerContext(), processingTime: recordingTime() }
    const writer = open(sink({ onFailure: 'retry' }), context)
    await writer.ready()
    for (let id = 1; id <= 5; id++) writer.write({ id, item: `item-${id}` }, undefined)
    await writer.flush()
    assert.equal(ids(), [1, 2, 3, 4, 5])
    assert.is(sendsOf(3), 3, 'two faults, then applied')
    for (const id of [1, 2, 4, 5]) assert.is(sendsOf(id), 1, `order ${id} sent once`)
    assert.equal(context.processingTime.delays.slice(-2), [40, 80], 'exponential backoff between the sends')
    assert.is(writer.metricGroup.value('retries'), 2)
    assert.is(writer.metricGroup.value('failedRequests'), 2)
    await writer.close()
  })
}

Faults(
  'retries used up: ERR_WRITE naming the statement and the attempts, without its values or the password',
  async () => {
    node.answer = failOrder(2, { kind: 'overloaded' }, Number.POSITIVE_INFINITY)
    const writer = open(sink({ onFailure: 'retry' }))
    await writer.ready()
    writer.write({ id: 1, item: 'fine' }, undefined)
    writer.write({ id: 2, item: 'secret-item-value' }, undefined)
    const error = (await writer.flush().then(
      () => undefined,
      (e: unknown) => e,
    )) as ConnectorError
    assert.ok(error, 'the flush fails')
    assert.is(error.code, 'ERR_WRITE')
    assert.is(sendsOf(2), 4, 'maxRetries 3: four sends')
    assert.match(error.message, 'after 4 attempts')
    assert.match(error.message, 'overloaded')
    assert.match(error.message, `statement: ${INSERT}`)
    for (const text of [error.message, String(error.stack), JSON.stringify(error)]) {
      assert.not.match(text, 'secret-item-value')
      assert.not.match(text, SECRET)
    }
    assert.equal(ids(), [1])
    await writer.close()
  },
)

Faults("'fail' (default): the first overloaded answer fails the writer, nothing is sent again", async () => {
  node.answer = failOrder(2, { kind: 'unavailable' }, 1)
  const writer = open(sink())
  await writer.ready()
  writer.write({ id: 2, item: 'b' }, undefined)
  const error = (await writer.flush().catch((e: unknown) => e)) as ConnectorError
  assert.is(error.code, 'ERR_WRITE')
  assert.ok(error.retriable, 'unavailable is transient: the job may restart')
  assert.match(error.message, 'Not enough replicas available')
  assert.not.match(
    error.message,
    'All host(s) tried',
    'the driver did not try it on another host (its retry policy is off)',
  )
  assert.is(sendsOf(2), 1, 'neither the sink nor the driver sent it again')
  assert.equal(ids(), [])
  await writer.close()
})

Faults(
  'a write timeout of a counter update (write type COUNTER) is not retried: it may have been applied',
  async () => {
    node.answer = (r) =>
      r.statements[0]!.values[0] === 'b' ? { kind: 'write-timeout', writeType: 'COUNTER', applied: true } : 'apply'
    const writer = open(
      new CassandraSink<string>({
        contactPoints: [node.contactPoint],
        localDataCenter: node.dataCenter,
        statement: (page) => ({ query: 'UPDATE shop.hits SET hits = hits + 1 WHERE page = ?', params: [page] }),
        onFailure: 'retry',
      }),
    )
    await writer.ready()
    for (const page of ['a', 'b', 'c']) writer.write(page, undefined)
    const error = (await writer.flush().catch((e: unknown) => e)) as ConnectorError
    assert.is(error.code, 'ERR_WRITE')
    assert.is(error.retriable, false)
    assert.is(node.received.filter((r) => r.statements[0]!.values[0] === 'b').length, 1, 'sent once')
    const hits = Object.fromEntries(node.rows('shop.hits').map((r) => [r.page, r.hits]))
    assert.equal(hits, { a: 1n, b: 1n, c: 1n }, 'the timed-out increment counted once, not twice')
    await writer.close()
  },
)

Faults('Invalid (0x2200) is not transient: not retried, the writer fails at once', async () => {
  node.answer = failOrder(1, { kind: 'invalid', message: 'Invalid INTEGER constant' }, 1)
  const writer = open(sink({ onFailure: 'retry' }))
  await writer.ready()
  writer.write({ id: 1, item: 'a' }, undefined)
  const error = (await writer.flush().catch((e: unknown) => e)) as ConnectorError
  assert.is(error.code, 'ERR_WRITE')
  assert.is(sendsOf(1), 1)
  assert.is(error.retriable, false)
  await writer.close()
})

Faults(
  "'dead-letter': an overloaded answer sends the record to the dead-letter output at once; the others land",
  async () => {
    node.answer = failOrder(3, { kind: 'overloaded' }, Number.POSITIVE_INFINITY)
    const context = writerContext()
    const writer = open(sink({ onFailure: 'dead-letter' }), context)
    await writer.ready()
    for (let id = 1; id <= 5; id++) writer.write({ id, item: `item-${id}` }, undefined)
    await writer.flush()
    writer.write({ id: 6, item: 'item-6' }, undefined) // dead letters are handed out on the next call
    await writer.flush()
    assert.equal(ids(), [1, 2, 4, 5, 6])
    assert.is(sendsOf(3), 1, 'dead-lettering does not retry first')
    assert.is(context.letters.length, 1)
    const [letter] = context.letters
    assert.equal(letter!.record, { id: 3, item: 'item-3' })
    assert.match(letter!.reason, 'overloaded')
    assert.match(letter!.reason, INSERT)
    assert.is(writer.metricGroup.value('recordsDeadLettered'), 1)
    await writer.close()
  },
)

Faults("'ignore': a write timeout is counted and logged, the writer goes on", async () => {
  node.answer = failOrder(2, { kind: 'write-timeout', writeType: 'SIMPLE' }, 1)
  const lines: string[] = []
  const context = { ...writerContext(), logger: createLogger({ level: 'warn', write: (line) => lines.push(line) }) }
  const writer = open(sink({ onFailure: 'ignore' }), context)
  await writer.ready()
  for (let id = 1; id <= 3; id++) writer.write({ id, item: `item-${id}` }, undefined)
  await writer.flush()
  assert.equal(ids(), [1, 3])
  assert.is(sendsOf(2), 1)
  assert.is(writer.metricGroup.value('recordsIgnored'), 1)
  assert.is(lines.filter((l) => l.includes('cassandra write ignored')).length, 1)
  await writer.close()
})

Faults('unlogged batches: a timed-out batch (UNLOGGED_BATCH) is resent whole and lands once', async () => {
  let failed = false
  node.answer = (r) => {
    if (r.opcode !== 'BATCH' || failed) return 'apply'
    failed = true
    return { kind: 'write-timeout', writeType: 'UNLOGGED_BATCH' }
  }
  const writer = open(sink({ onFailure: 'retry', batchSize: 3, partitionKey: (o) => o.id % 2 }))
  await writer.ready()
  for (let id = 1; id <= 6; id++) writer.write({ id, item: `item-${id}` }, undefined)
  await writer.flush()
  assert.equal(ids(), [1, 2, 3, 4, 5, 6])
  const batches = node.received.filter((r) => r.opcode === 'BATCH')
  assert.is(batches.length, 3, 'two batches, one of them twice')
  for (const b of batches) assert.is(b.batchType, 'UNLOGGED')
  const first = batches[0]!.statements.map((s) => s.values[0])
  const resent = batches.find((b, i) => i > 0 && b.statements[0]!.values[0] === first[0])
  assert.equal(
    resent?.statements.map((s) => s.values[0]),
    first,
    'the same statements again',
  )
  await writer.close()
})

Faults('no answer: the request times out on the client (requestTimeoutMs), is retried and lands', async () => {
  let hung = false
  node.answer = (r) => {
    if (hung || r.statements[0]!.values[0] !== 1) return 'apply'
    hung = true
    return 'hang'
  }
  const writer = open(sink({ onFailure: 'retry', requestTimeoutMs: 300 }))
  await writer.ready()
  writer.write({ id: 1, item: 'a' }, undefined)
  await writer.flush()
  assert.is(sendsOf(1), 2)
  assert.equal(ids(), [1])
  await writer.close()
})

Faults('what the server kept: consistency, serial consistency and the event-time write timestamp', async () => {
  const writer = open(sink({ consistency: 'one', eventTimeWriteTimestamp: true }))
  await writer.ready()
  writer.write({ id: 1, item: 'a' }, 1_700_000_000_123)
  await writer.flush()
  await waitFor(() => node.received.length === 1)
  const [request] = node.received
  assert.is(request!.opcode, 'EXECUTE', 'prepared once, then executed')
  assert.is(request!.consistency, 0x0001)
  assert.is(request!.serialConsistency, 0x0009, 'LOCAL_SERIAL')
  assert.is(request!.timestamp, 1_700_000_000_123_000n)
  assert.equal(request!.statements[0]!.values, [1, 'a'])
  await writer.close()
})

Faults.run()

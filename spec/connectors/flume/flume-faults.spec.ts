import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { flumeSink } from '../../../lib/connectors/flume/index.js'
import { ConnectorError } from '../../../lib/errors.js'
import { StreamEnvironment } from '../../../lib/index.js'
import { MetricGroup } from '../../../lib/runtime/metric-group.js'
import type { DeadLetter } from '../../../lib/runtime/output-tag.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { type AvroFlumeServer, startAvroFlumeServer } from '../../support/avro-flume-server.js'
import { closedPort } from '../../support/connector-checks.js'
import { waitFor } from '../../support/wait-for.js'

/**
 * Faults a real Flume agent cannot be made to show — FAILED and UNKNOWN answers, calls that hang, a
 * connection dropped mid-call, answers held back across a barrier — against an Avro RPC server in
 * spec/support that speaks Flume's AvroSourceProtocol with Netty framing.
 */
const Faults = suite('flume sink faults (Avro RPC protocol server)')
let server: AvroFlumeServer

Faults.before.each(async () => {
  server = await startAvroFlumeServer()
})
Faults.after.each(async () => {
  await server.close()
})

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i)
const context = (metrics = new MetricGroup('flume')) => ({
  subtask: 0,
  parallelism: 1,
  processingTime: systemProcessingTime,
  metrics,
})
const bodies = () => server.events().map((e) => Number(e.body.toString()))
const fastRetry = { maxRetries: 5, initialDelayMs: 5, maxDelayMs: 20 }

Faults('FAILED and UNKNOWN answers: the batch is sent again after a backoff, nothing lost or repeated', async () => {
  server.answer = (_batch, n) => (n === 1 ? 'FAILED' : n === 2 ? 'UNKNOWN' : 'OK')
  const metrics = new MetricGroup('flume')
  const writer = flumeSink<number>({
    hosts: server.address,
    maxBatchRecords: 100,
    retry: fastRetry,
    mapper: (n) => ({ headers: { n: String(n) }, body: String(n) }),
  }).createWriter(context(metrics))
  for (const n of range(500)) writer.write(n, undefined)
  await writer.snapshotState()
  await writer.close()
  assert.equal(bodies(), range(500))
  assert.ok(server.events().every((e) => e.headers.n === e.body.toString()))
  assert.is(metrics.value('retriedBatches'), 2)
  assert.is(server.calls.length, 7, '5 batches + 2 retries')
})

Faults('a batch never accepted fails the writer with ERR_SEND after maxRetries; it is not dropped', async () => {
  server.answer = () => 'FAILED'
  const writer = flumeSink<number>({
    hosts: server.address,
    retry: { maxRetries: 3, initialDelayMs: 1, maxDelayMs: 5 },
    mapper: (n) => ({ body: String(n) }),
  }).createWriter(context())
  for (const n of range(10)) writer.write(n, undefined)
  const error = await writer.snapshotState().then(
    () => undefined,
    (e: unknown) => e,
  )
  assert.instance(error, ConnectorError)
  assert.is((error as ConnectorError).code, 'ERR_SEND')
  assert.match(
    (error as Error).message,
    `flume sink (subtask 0): avro ${server.address}: a batch of 10 events was not accepted after 4 attempt(s): ${server.address}: appendBatch answered FAILED`,
  )
  assert.is(server.calls.length, 4, 'the first attempt and 3 retries')
  assert.ok(
    server.calls.every((c) => c.length === 10),
    'every attempt carried the whole batch',
  )
  const later = await Promise.resolve(writer.ready()).catch((e: unknown) => e)
  assert.is(later, error, 'every later call fails with the same error')
  await writer.close()
})

Faults('a call that hangs times out, its connection is closed and the batch goes again on a new one', async () => {
  server.answer = (_batch, n) => (n === 0 ? 'hang' : 'OK')
  const metrics = new MetricGroup('flume')
  const writer = flumeSink<number>({
    hosts: server.address,
    requestTimeoutMs: 200,
    retry: fastRetry,
    mapper: (n) => ({ body: String(n) }),
  }).createWriter(context(metrics))
  for (const n of range(50)) writer.write(n, undefined)
  await writer.snapshotState()
  await writer.close()
  assert.equal(bodies(), range(50))
  assert.is(server.connections, 2, 'a new connection after the timeout')
  assert.is(metrics.value('retriedBatches'), 1)
})

Faults('the connection dropped mid-call: the batch is sent again on a new connection', async () => {
  server.answer = (_batch, n) => (n === 1 ? 'close' : 'OK')
  const writer = flumeSink<number>({
    hosts: server.address,
    maxBatchRecords: 20,
    retry: fastRetry,
    mapper: (n) => ({ body: String(n) }),
  }).createWriter(context())
  for (const n of range(100)) writer.write(n, undefined)
  await writer.snapshotState()
  await writer.close()
  assert.equal(bodies(), range(100))
  assert.is(server.connections, 2)
})

Faults('a barrier waits until the agent accepted every event before it (at-least-once)', async () => {
  let release!: () => void
  const held = new Promise<'OK'>((resolve) => (release = () => resolve('OK')))
  server.answer = () => held
  const writer = flumeSink<number>({ hosts: server.address, mapper: (n) => ({ body: String(n) }) }).createWriter(
    context(),
  )
  for (const n of range(30)) writer.write(n, undefined)
  let settled = false
  const barrier = writer.snapshotState().then(() => (settled = true))
  await waitFor(() => server.calls.length === 1, { description: 'the batch reached the server' })
  // The server received the batch; the barrier must not complete before it answers.
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.is(settled, false, 'the barrier waits for the answer')
  assert.equal(server.accepted, [])
  release()
  await barrier
  assert.equal(bodies(), range(30))
  await writer.close()
})

Faults('close sends the partial batch still lingering and waits for it', async () => {
  const writer = flumeSink<number>({
    hosts: server.address,
    lingerMs: 3_600_000,
    maxBatchRecords: 1_000,
    mapper: (n) => ({ body: String(n) }),
  }).createWriter(context())
  for (const n of range(150)) writer.write(n, undefined)
  assert.is(server.calls.length, 0, 'nothing sent yet: the batch lingers')
  await writer.close()
  assert.equal(bodies(), range(150))
})

Faults('batches hold maxBatchRecords events; lingerMs sends a partial one', async () => {
  const writer = flumeSink<number>({
    hosts: server.address,
    maxBatchRecords: 64,
    lingerMs: 5,
    mapper: (n) => ({ body: String(n) }),
  }).createWriter(context())
  for (const n of range(200)) writer.write(n, undefined)
  await waitFor(() => server.events().length === 200, { description: 'the linger sent the last 8' })
  assert.equal(
    server.calls.map((c) => c.length),
    [64, 64, 64, 8],
  )
  await writer.close()
})

Faults('load-balance random: batches spread over two servers, each accepted once', async () => {
  const other = await startAvroFlumeServer()
  try {
    const writer = flumeSink<number>({
      hosts: [server.address, other.address],
      clientType: 'load-balance',
      selector: 'random',
      maxBatchRecords: 10,
      mapper: (n) => ({ body: String(n) }),
    }).createWriter(context())
    for (const n of range(400)) writer.write(n, undefined)
    await writer.close()
    const all = [...bodies(), ...other.events().map((e) => Number(e.body.toString()))].sort((a, b) => a - b)
    assert.equal(all, range(400))
    assert.ok(server.accepted.length > 5 && other.accepted.length > 5, 'both servers took batches')
  } finally {
    await other.close()
  }
})

Faults('an unreachable agent fails with ERR_CONNECT after the retries, naming the host and the attempts', async () => {
  const address = `127.0.0.1:${await closedPort()}`
  const writer = flumeSink<number>({
    hosts: address,
    retry: { maxRetries: 2, initialDelayMs: 1 },
    mapper: (n) => ({ body: String(n) }),
  }).createWriter(context())
  writer.write(1, undefined)
  const error = (await writer.flush().catch((e: unknown) => e)) as ConnectorError
  assert.instance(error, ConnectorError)
  assert.is(error.code, 'ERR_CONNECT')
  assert.match(error.message, `flume sink (subtask 0): avro ${address}: cannot connect after 3 attempt(s)`)
  assert.match(error.message, 'ECONNREFUSED')
  await writer.close()
})

Faults('in a job: a record the mapper cannot map goes to the dead letters, the others to the agent', async () => {
  const env = StreamEnvironment.create({ parallelism: 1, logLevel: 'silent' })
  env.fromSequence(0, 99, { uid: 'src' }).sinkTo(
    flumeSink<number>({
      hosts: server.address,
      mapper: (n) => (n % 10 === 3 ? ({ body: n } as never) : { body: String(n) }),
    }),
    { uid: 'sink', onError: 'resume' },
  )
  const job = env.executeAsync()
  const letters: DeadLetter[] = []
  job.deadLetters.subscribe((l) => letters.push(l))
  await job.result
  assert.equal(
    bodies(),
    range(100).filter((n) => n % 10 !== 3),
  )
  assert.is(letters.length, 10)
  assert.match(letters[0]!.reason, 'flume sink mapper returned {"body":3} for 3')
})

Faults('in a job: an agent that never accepts fails the job with ERR_SEND', async () => {
  server.answer = () => 'FAILED'
  const env = StreamEnvironment.create({ parallelism: 1, logLevel: 'silent' })
  env.fromSequence(0, 9, { uid: 'src' }).sinkTo(
    flumeSink<number>({
      hosts: server.address,
      retry: { maxRetries: 1, initialDelayMs: 1 },
      mapper: (n) => ({ body: String(n) }),
    }),
    { uid: 'sink' },
  )
  const error = (await env.execute().catch((e: unknown) => e)) as Error
  assert.match(String(error?.message ?? error), 'answered FAILED')
  assert.equal(server.accepted, [])
})

Faults.run()

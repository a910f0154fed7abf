import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ActiveMQSink } from '../../../lib/connectors/activemq/index.js'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { type JobResult, StreamEnvironment, map } from '../../../lib/index.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { watchJob } from '../../support/amqp-broker.js'
import { STOMP_HOST, STOMP_PORT, StompAdmin, TcpCutter, uniqueDestination } from '../../support/stomp-broker.js'
import { settlesWithin, waitFor } from '../../support/wait-for.js'
import { busyWait } from '../../support/fault-injection.js'
import { sharedRecord } from '../../support/shared-flags.js'

/**
 * The ActiveMQ sink over STOMP against the machine's ActiveMQ: persistent SENDs whose receipts are
 * awaited on every barrier, reconnection with the unreceipted messages sent again, and connection
 * failures. What arrived is read back from the real broker.
 */
const Sink = suite('activemq sink')
let admin: StompAdmin

Sink.before(async () => {
  admin = await StompAdmin.open()
})
Sink.after(async () => {
  await admin?.cleanup()
  await admin?.close()
})

const connection = { host: STOMP_HOST, port: STOMP_PORT }
const context = { subtask: 0, parallelism: 1, processingTime: systemProcessingTime }
const numbers = (n: number): number[] => Array.from({ length: n }, (_, i) => i)
const sortedNumbers = (bodies: readonly string[]): number[] => bodies.map(Number).sort((a, b) => a - b)

Sink('a job sends 20,000 records as persistent messages; every one arrives with its headers', async () => {
  const N = 20_000
  const destination = uniqueDestination('queue', 'out')
  const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent', checkpointing: { intervalMs: 20 } })
  env.fromSequence(0, N - 1).sinkTo(
    new ActiveMQSink<number>({
      ...connection,
      destination,
      serializer: String,
      headers: (n) => ({ 'correlation-id': `c${n}` }),
    }),
  )
  await env.execute()
  const got = await admin.drain(destination, N)
  assert.equal(sortedNumbers(got.map((m) => m.body)), numbers(N))
  assert.ok(
    got.every((m) => m.headers.persistent === 'true' && m.headers['correlation-id'] === `c${m.body}`),
    'persistent, with the correlation id',
  )
})

Sink('on a barrier the writer resolves only after the broker receipted every message before it', async () => {
  const destination = uniqueDestination('queue', 'barrier')
  const writer = new ActiveMQSink<number>({ ...connection, destination, serializer: String }).createWriter(context)
  try {
    await writer.ready()
    for (let i = 0; i < 3000; i++) writer.write(i, undefined)
    assert.ok(writer.unconfirmed > 0, 'receipts are outstanding right after the writes')
    assert.equal(await writer.snapshotState(), [])
    assert.is(writer.unconfirmed, 0)
  } finally {
    await writer.close()
  }
  assert.is((await admin.drain(destination, 3000)).length, 3000)
})

Sink('an injected failure and restore: every record reaches the queue (at-least-once)', async () => {
  const N = 10_000
  const destination = uniqueDestination('queue', 'restore')
  const fault = sharedRecord({ failed: false })
  const env = StreamEnvironment.create({
    logLevel: 'silent',
    checkpointing: { intervalMs: 10 },
    restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
  })
  env
    .fromSequence(0, N - 1, { uid: 'src' })
    .pipe(
      map(
        (n: number) => {
          if (!fault.failed && n === 6000) {
            fault.failed = true
            throw new Error('injected')
          }
          return n
        },
        { uid: 'faulty' },
      ),
    )
    .sinkTo(new ActiveMQSink<number>({ ...connection, destination, serializer: String }), { uid: 'sink' })
  const result = await env.execute()
  assert.is(result.metrics.restarts, 1)
  const got = (await admin.drain(destination)).map((m) => m.body)
  assert.equal([...new Set(sortedNumbers(got))], numbers(N), 'nothing lost')
  console.log(`  sink restore: ${got.length - N} duplicate(s) from the replay after the restore`)
})

Sink(
  'reconnects after its connection is cut mid-stream and sends the unreceipted messages again: nothing lost',
  async () => {
    const N = 20_000
    const destination = uniqueDestination('queue', 'cut')
    const cutter = await TcpCutter.start()
    const sink = new ActiveMQSink<number>({
      host: STOMP_HOST,
      port: cutter.port,
      destination,
      serializer: String,
      retry: { initialDelayMs: 20 },
      maxInFlight: 500,
    })
    const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 20 } })
    const count = sharedRecord({ sent: 0 })
    env
      .fromSequence(0, N - 1)
      .pipe(
        map((n: number) => {
          if (++count.sent % 10 === 0) busyWait(1)
          return n
        }),
      )
      .sinkTo(sink)
    const job = env.executeAsync()
    const watch = watchJob(job)
    let result: JobResult
    try {
      await waitFor(() => watch.check() && count.sent >= 4000, { timeoutMs: 15_000, description: '4000 sent' })
      assert.is(cutter.cut(), 1)
      assert.ok(count.sent < N, 'cut mid-stream')
      result = await settlesWithin(job.result, { timeoutMs: 30_000, description: 'job finished' })
    } finally {
      await cutter.stop()
    }
    assert.is(result.metrics.restarts, 0, 'no job restart: the writer reconnected')
    assert.ok(cutter.accepted >= 2, 'it connected again through the relay')
    const got = (await admin.drain(destination)).map((m) => m.body)
    assert.equal([...new Set(sortedNumbers(got))], numbers(N))
    const sent = result.metrics.connectors.find((c) => c.connector === sink.name)?.counters.sent ?? Number.NaN
    console.log(`  sink cut: ${sent - N} message(s) sent again, ${got.length - N} duplicate(s) in the queue`)
  },
)

Sink('an unreachable broker fails with ERR_CONNECT after the retries; bad options name the option', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env.fromSequence(0, 9).sinkTo(
    new ActiveMQSink<number>({
      host: '127.0.0.1',
      port: 1,
      destination: '/queue/x',
      retry: { maxRetries: 1, initialDelayMs: 10 },
    }),
  )
  const error = await settlesWithin(
    env.execute().then(
      () => undefined,
      (e: unknown) => e,
    ),
    { timeoutMs: 10_000 },
  )
  assert.instance(error, ConnectorError)
  assert.is((error as ConnectorError).code, 'ERR_CONNECT')
  assert.match(
    (error as Error).message,
    /activemqSink stomp:\/\/127\.0\.0\.1:1 \/queue\/x: no connection after 2 attempts \(maxRetries 1\)/,
  )
  assert.throws(
    () => new ActiveMQSink({ destination: 'x' }),
    (e: unknown) => e instanceof ConfigError && e.option === 'activemqSink.destination',
  )
  assert.throws(
    () => new ActiveMQSink({ destination: '/queue/x', maxInFlight: 0 }),
    (e: unknown) => e instanceof ConfigError && e.option === 'activemqSink.maxInFlight',
  )
})

Sink.run()

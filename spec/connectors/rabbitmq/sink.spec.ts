import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { RabbitMQSink, UNROUTABLE_HEADER } from '../../../lib/connectors/rabbitmq/index.js'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { type JobMetricsSnapshot, StreamEnvironment, map } from '../../../lib/index.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { AMQP_URL, AmqpAdmin, closeConnectionsNamed, uniqueName, watchJob } from '../../support/amqp-broker.js'
import { settlesWithin, waitFor } from '../../support/wait-for.js'
import { busyWait } from '../../support/fault-injection.js'
import { sharedRecord } from '../../support/shared-flags.js'

/**
 * The RabbitMQ sink against the machine's RabbitMQ broker: publisher confirms awaited on every
 * barrier, unroutable messages to the error policy, reconnection with the unconfirmed messages
 * published again, and connection failures. What arrived is read back from real queues.
 */
const Sink = suite('rabbitmq sink')
let admin: AmqpAdmin

Sink.before(async () => {
  admin = await AmqpAdmin.open()
})
Sink.after(async () => {
  await admin?.close()
})

const context = { subtask: 0, parallelism: 1, processingTime: systemProcessingTime }
const numbers = (n: number): number[] => Array.from({ length: n }, (_, i) => i)
const bodies = (messages: ReadonlyArray<{ content: Buffer }>): number[] =>
  messages.map((m) => Number(m.content.toString()))

Sink('a job publishes 20,000 records with confirms to an exchange; every one arrives with its properties', async () => {
  const N = 20_000
  const exchange = await admin.exchange(uniqueName('x'), 'direct')
  const queue = await admin.queue(uniqueName('out'))
  await admin.bind(queue, exchange, 'numbers')
  const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent', checkpointing: { intervalMs: 20 } })
  env.fromSequence(0, N - 1).sinkTo(
    new RabbitMQSink<number>({
      url: AMQP_URL,
      exchange,
      routingKey: 'numbers',
      properties: (n) => ({ correlationId: `c${n}` }),
    }),
  )
  await env.execute()
  const got = await admin.drain(queue, N)
  assert.equal(
    bodies(got).sort((a, b) => a - b),
    numbers(N),
  )
  assert.ok(
    got.every((m) => m.properties.correlationId === `c${m.content.toString()}` && m.properties.deliveryMode === 2),
    'persistent, with the correlation id',
  )
})

Sink('on a barrier the writer resolves only after the broker confirmed every message before it', async () => {
  const queue = await admin.queue(uniqueName('barrier'))
  const writer = new RabbitMQSink<number>({ url: AMQP_URL, exchange: '', routingKey: queue }).createWriter(context)
  try {
    await writer.ready()
    for (let i = 0; i < 5000; i++) writer.write(i, undefined)
    assert.ok(writer.unconfirmed > 0, 'confirms are outstanding right after the writes')
    assert.equal(await writer.snapshotState(), [])
    assert.is(writer.unconfirmed, 0)
    assert.is(await admin.count(queue), 5000, 'the broker holds every message when the barrier passes')
  } finally {
    await writer.close()
  }
})

Sink('an injected failure and restore: every record reaches the queue (at-least-once)', async () => {
  const N = 10_000
  const queue = await admin.queue(uniqueName('restore'))
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
    .sinkTo(new RabbitMQSink<number>({ url: AMQP_URL, exchange: '', routingKey: queue }), { uid: 'sink' })
  const result = await env.execute()
  assert.is(result.metrics.restarts, 1)
  const got = bodies(await admin.drainAll(queue))
  assert.equal(
    [...new Set(got)].sort((a, b) => a - b),
    numbers(N),
    'nothing lost',
  )
  console.log(`  sink restore: ${got.length - N} duplicate(s) from the replay after the restore`)
})

Sink('an unroutable message fails the job with ERR_UNROUTABLE, never in silence', async () => {
  const exchange = await admin.exchange(uniqueName('x-unbound'), 'direct')
  const queue = await admin.queue(uniqueName('bound'))
  await admin.bind(queue, exchange, 'good')
  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 10 } })
  env
    .fromSequence(0, 99)
    .sinkTo(new RabbitMQSink<number>({ url: AMQP_URL, exchange, routingKey: (n) => (n === 42 ? 'nowhere' : 'good') }))
  const error = await settlesWithin(
    env.execute().then(
      () => undefined,
      (e: unknown) => e,
    ),
    { timeoutMs: 10_000 },
  )
  assert.instance(error, ConnectorError)
  assert.is((error as ConnectorError).code, 'ERR_UNROUTABLE')
  assert.match((error as Error).message, /routing key "nowhere" was returned unroutable \(312 NO_ROUTE\)/)
})

Sink("onUnroutable 'dead-letter' publishes returned messages to the dead-letter exchange with the reason", async () => {
  const exchange = await admin.exchange(uniqueName('x-main'), 'direct')
  const dlx = await admin.exchange(uniqueName('x-dead'), 'fanout')
  const queue = await admin.queue(uniqueName('main'))
  const deadQueue = await admin.queue(uniqueName('dead'))
  await admin.bind(queue, exchange, 'good')
  await admin.bind(deadQueue, dlx, '')
  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 10 } })
  env.fromSequence(0, 999).sinkTo(
    new RabbitMQSink<number>({
      url: AMQP_URL,
      exchange,
      routingKey: (n) => (n % 100 === 0 ? `lost-${n}` : 'good'),
      onUnroutable: 'dead-letter',
      deadLetterExchange: dlx,
    }),
  )
  await env.execute()
  assert.is((await admin.drain(queue, 990)).length, 990)
  const dead = await admin.drain(deadQueue, 10)
  assert.equal(
    bodies(dead).sort((a, b) => a - b),
    [0, 100, 200, 300, 400, 500, 600, 700, 800, 900],
  )
  const headers = dead[0]!.properties.headers!
  assert.is(headers[UNROUTABLE_HEADER], '312 NO_ROUTE')
  assert.is(headers['x-sluice-original-exchange'], exchange)
  assert.match(String(headers['x-sluice-original-routing-key']), /^lost-/)
})

Sink(
  'reconnects after the broker closes its connection and publishes the unconfirmed messages again: nothing lost',
  async () => {
    const N = 20_000
    const queue = await admin.queue(uniqueName('reconnect'))
    const connectionName = uniqueName('sink-conn')
    const sink = new RabbitMQSink<number>({
      url: AMQP_URL,
      exchange: '',
      routingKey: queue,
      connectionName,
      retry: { initialDelayMs: 20 },
      maxInFlight: 500,
    })
    const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 20 } })
    const count = sharedRecord({ sent: 0 })
    env
      .fromSequence(0, N - 1)
      .pipe(
        map((n: number) => {
          if (++count.sent % 10 === 0) busyWait(2)
          return n
        }),
      )
      .sinkTo(sink)
    const job = env.executeAsync()
    const watch = watchJob(job)
    // the writer's connections, from the job's metrics (a worker thread reports them every 200 ms)
    const connections = (metrics: JobMetricsSnapshot): number =>
      metrics.connectors.find((c) => c.connector === sink.name)?.gauges.connections ?? 0
    await waitFor(() => watch.check() && count.sent >= 2000, { timeoutMs: 15_000, description: '2000 sent' })
    assert.is(await closeConnectionsNamed(connectionName), 1)
    const atClose = count.sent
    await waitFor(() => watch.check() && connections(job.metrics()) >= 2, {
      timeoutMs: 10_000,
      description: 'reconnected',
    })
    assert.ok(atClose < N, 'closed mid-stream')
    const result = await settlesWithin(job.result, { timeoutMs: 30_000, description: 'job finished' })
    assert.is(result.metrics.restarts, 0, 'no job restart: the writer reconnected')
    const got = bodies(await admin.drainAll(queue))
    assert.equal(
      [...new Set(got)].sort((a, b) => a - b),
      numbers(N),
    )
    const sent = result.metrics.connectors.find((c) => c.connector === sink.name)?.counters.sent ?? Number.NaN
    console.log(`  sink reconnect: ${sent - N} message(s) published again, ${got.length - N} duplicate(s) in the queue`)
  },
)

Sink(
  'an unreachable broker fails with ERR_CONNECT after the retries; a missing exchange is ERR_NO_EXCHANGE; bad options name the option',
  async () => {
    const env = StreamEnvironment.create({ logLevel: 'silent' })
    env.fromSequence(0, 9).sinkTo(
      new RabbitMQSink<number>({
        url: 'amqp://guest:guest@127.0.0.1:1',
        exchange: '',
        routingKey: 'q',
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
    assert.is((error as ConnectorError).code, 'ERR_CONNECT')
    assert.match(
      (error as Error).message,
      /rabbitmqSink amqp:\/\/127\.0\.0\.1:1.*no connection after 2 attempts \(maxRetries 1\)/,
    )

    const missing = StreamEnvironment.create({ logLevel: 'silent' })
    missing
      .fromSequence(0, 9)
      .sinkTo(new RabbitMQSink<number>({ url: AMQP_URL, exchange: uniqueName('no-such'), routingKey: 'q' }))
    const noExchange = await settlesWithin(
      missing.execute().then(
        () => undefined,
        (e: unknown) => e,
      ),
      { timeoutMs: 10_000 },
    )
    assert.is((noExchange as ConnectorError).code, 'ERR_NO_EXCHANGE')

    assert.throws(
      () => new RabbitMQSink({ exchange: 'x', routingKey: 'k', onUnroutable: 'dead-letter' }),
      (e: unknown) => e instanceof ConfigError && e.option === 'rabbitmqSink.deadLetterExchange',
    )
    assert.throws(
      () => new RabbitMQSink({ exchange: 'x', routingKey: 7 as never }),
      (e: unknown) => e instanceof ConfigError && e.option === 'rabbitmqSink.routingKey',
    )
    assert.throws(
      () => new RabbitMQSink({ url: 'http://x', exchange: 'x', routingKey: 'k' }),
      (e: unknown) => e instanceof ConfigError && e.option === 'rabbitmqSink.url',
    )
  },
)

Sink.run()

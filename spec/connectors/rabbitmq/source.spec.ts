import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  type RabbitMQMessage,
  type RabbitMQReader,
  RabbitMQSink,
  RabbitMQSource,
} from '../../../lib/connectors/rabbitmq/index.js'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { DEAD_LETTERS, type DeadLetter, StreamEnvironment, decode, map, orderedWait } from '../../../lib/index.js'
import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import {
  AMQP_URL,
  AmqpAdmin,
  closeConnectionsNamed,
  checkQueueMetrics,
  operatorMetrics,
  unacknowledgedOnBroker,
  uniqueName,
  waitUntil,
  watchJob,
} from '../../support/amqp-broker.js'
import { SourceDriver } from '../../support/drive-source.js'
import { growingWindowRun } from '../../support/growing-window.js'
import { Ledger, LedgerSink } from '../../support/ledger-sink.js'
import { SlowSink } from '../../support/slow-sink.js'
import { watchReaders } from '../../support/reader-gauges.js'
import { settlesWithin, waitFor } from '../../support/wait-for.js'
import { SharedGate } from '../../support/shared-gate.js'
import { sharedRecord } from '../../support/shared-flags.js'

/**
 * The RabbitMQ source against the machine's RabbitMQ broker (127.0.0.1:5672, scripts/services.d):
 * acknowledgement on checkpoint completion, exactly-once deduplication across restores and
 * reconnections, the prefetch bound under backpressure, dead letters, and connection failures.
 */
const Source = suite('rabbitmq source')
let admin: AmqpAdmin

Source.before(async () => {
  admin = await AmqpAdmin.open()
})
Source.after(async () => {
  await admin?.close()
})

// a message that crossed threads in a record (a dead letter's) holds its content as a Uint8Array
const text = (m: RabbitMQMessage): string => Buffer.from(m.content).toString()
/** Every reader reported (on workers, metrics arrive every 200 ms) and holds nothing unacknowledged. */
const settled = (readers: readonly Readonly<Record<string, number>>[]): boolean =>
  readers.length > 0 && readers.every((r) => r.unacknowledged === 0)
const names = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `m${i + from}`)
const sortedText = (values: readonly string[]): string[] =>
  [...values].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))
const withIds = { properties: (i: number) => ({ correlationId: `c${i}` }) }

function checkpointedEnv(parallelism = 1): StreamEnvironment {
  return StreamEnvironment.create({
    parallelism,
    logLevel: 'silent',
    checkpointing: { intervalMs: 10 },
    restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
  })
}

/** A map that throws once, on the message `failAt` (once over every thread: `sharedRecord`). */
function failOnce(failAt: string): { fn: (m: RabbitMQMessage) => string; failed: () => boolean } {
  const fault = sharedRecord({ failed: false })
  return {
    fn: (m) => {
      const s = text(m)
      if (!fault.failed && s === failAt) {
        fault.failed = true
        throw new Error(`injected failure at ${s}`)
      }
      return s
    },
    failed: () => fault.failed,
  }
}

Source(
  'at-least-once, 2 subtasks: 12,000 messages through an injected failure and restore; every one committed and acknowledged',
  async () => {
    const N = 12_000
    const queue = await admin.queue(uniqueName('alo'))
    await admin.publish(queue, N)
    const ledger = new Ledger<string>()
    const source = new RabbitMQSource({ url: AMQP_URL, queue, prefetch: 500 })
    const faulty = failOnce('m7000')
    const env = checkpointedEnv(2)
    env
      .fromSource(source, { uid: 'src' })
      .pipe(map(faulty.fn, { uid: 'faulty' }))
      .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
    const job = env.executeAsync()
    const watch = watchJob(job)
    try {
      await waitFor(() => watch.check() && new Set(ledger.committed).size === N, {
        timeoutMs: 20_000,
        description: 'every message committed',
      })
      // redeliveries of messages committed before the failure may still be on their way: wait for them too
      await waitUntil(async () => settled(operatorMetrics(job, 'src')) && (await admin.count(queue)) === 0, {
        description: 'everything acknowledged',
      })
      assert.ok(faulty.failed())
      assert.is(job.metrics().restarts, 1)
    } finally {
      await job.cancel()
    }
    assert.equal(sortedText([...new Set(ledger.committed)]), names(N))
    assert.is(await admin.count(queue), 0, 'nothing requeued at the cancel: everything was acknowledged')
  },
)

Source(
  'exactly-once: 12,000 messages through an injected failure and restore; committed exactly once each',
  async () => {
    const N = 12_000
    const queue = await admin.queue(uniqueName('eo'))
    await admin.publish(queue, N, withIds)
    const ledger = new Ledger<string>()
    const source = new RabbitMQSource({ url: AMQP_URL, queue, prefetch: 1000, guarantee: 'exactly-once' })
    const faulty = failOnce('m6500')
    const env = checkpointedEnv()
    env
      .fromSource(source, { uid: 'src' })
      .pipe(map(faulty.fn, { uid: 'faulty' }))
      .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
    const job = env.executeAsync()
    const watch = watchJob(job)
    try {
      await waitFor(() => watch.check() && ledger.committed.length >= N, {
        timeoutMs: 20_000,
        description: 'every message committed',
      })
      await waitUntil(async () => settled(operatorMetrics(job, 'src')) && (await admin.count(queue)) === 0, {
        description: 'every redelivery skipped and acknowledged',
      })
    } finally {
      await job.cancel()
    }
    assert.ok(faulty.failed())
    assert.equal(sortedText(ledger.committed), names(N), 'no loss, no duplicate')
    assert.is(await admin.count(queue), 0)
  },
)

Source(
  'exactly-once at 1 s checkpoints: the window grows beyond the prefetch within maxUnacknowledgedBytes, through a failure and restore; committed exactly once each',
  async () => {
    const messages = 5000
    const queue = await admin.queue(uniqueName('eo-window'))
    await admin.publish(queue, messages, { ...withIds, body: (i) => `m${i}`.padEnd(40, '.') })
    const options = { prefetch: 50, maxUnacknowledgedBytes: 80_000 }
    const source = new RabbitMQSource({ url: AMQP_URL, queue, guarantee: 'exactly-once', ...options })
    await growingWindowRun({ source, text, messages, failAt: 'm2500', ...options })
    assert.is(await admin.count(queue), 0)
  },
)

Source(
  'exactly-once: a reader restored from a checkpoint skips redeliveries of messages emitted before it',
  async () => {
    const queue = await admin.queue(uniqueName('eo-restore'))
    await admin.publish(queue, 1000, withIds)
    const source = new RabbitMQSource({ url: AMQP_URL, queue, prefetch: 1000, guarantee: 'exactly-once' })
    const first = await SourceDriver.start<RabbitMQMessage, unknown, RabbitMQReader>(source)
    await first.run({ maxRecords: 300, timeoutMs: 10_000 })
    const splits = first.snapshot()
    await first.close() // checkpoint 1 never completed: nothing was acknowledged, all 1000 come again
    const second = await SourceDriver.start<RabbitMQMessage, unknown, RabbitMQReader>(source, { restored: splits })
    try {
      await second.run({
        until: () => second.reader.metrics.value('duplicates') === 300 && second.records.length === 700,
        timeoutMs: 10_000,
      })
      assert.equal(second.records.map(text), names(700, 300), 'only the messages after the checkpoint')
      second.snapshot()
      await second.reader.notifyCheckpointComplete(1)
      assert.is(second.reader.unacknowledged, 0)
    } finally {
      await second.close()
    }
    assert.is(await admin.count(queue), 0, 'duplicates and new messages are acknowledged')
  },
)

Source('at-least-once: the same restore emits the redeliveries again (the contrast)', async () => {
  const queue = await admin.queue(uniqueName('alo-restore'))
  await admin.publish(queue, 500)
  const source = new RabbitMQSource({ url: AMQP_URL, queue, prefetch: 1000 })
  const first = await SourceDriver.start(source)
  await first.run({ maxRecords: 200, timeoutMs: 10_000 })
  assert.equal(first.snapshot(), [], 'no ids in an at-least-once checkpoint')
  await first.close()
  const second = await SourceDriver.start(source)
  await second.run({ maxRecords: 500, timeoutMs: 10_000 })
  await second.close()
  assert.equal(second.records.map(text), names(500))
})

Source(
  'reconnects after the broker closes its connection (rabbitmqctl close_connection) and loses nothing, exactly once',
  async () => {
    const N = 10_000
    const queue = await admin.queue(uniqueName('eo-reconnect'))
    const connectionName = uniqueName('conn')
    await admin.publish(queue, N, withIds)
    const ledger = new Ledger<string>()
    const source = new RabbitMQSource({
      url: AMQP_URL,
      queue,
      connectionName,
      prefetch: 200,
      guarantee: 'exactly-once',
      retry: { initialDelayMs: 20 },
    })
    const reader = (): Readonly<Record<string, number>> => operatorMetrics(job, 'src')[0] ?? {}
    const env = checkpointedEnv()
    // the 1,500th message waits until the connection was closed: the close lands mid-stream however long
    // rabbitmqctl takes, with messages unacknowledged on the broker (the job is backpressured meanwhile)
    const closed = new SharedGate()
    let seen = 0
    env
      .fromSource(source, { uid: 'src' })
      .pipe(
        map(text),
        orderedWait(async (body: string) => {
          if (++seen === 1500 && !closed.isOpen) await closed.opened()
          return body
        }),
      )
      .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
    const job = env.executeAsync()
    const watch = watchJob(job)
    try {
      await waitFor(() => watch.check() && ledger.committed.length >= 1000, {
        timeoutMs: 15_000,
        description: '1000 committed',
      })
      assert.is(await closeConnectionsNamed(connectionName), 1)
      const atClose = ledger.committed.length
      await waitFor(() => watch.check() && reader().connections! >= 2, {
        timeoutMs: 10_000,
        description: 'reconnected',
      })
      assert.ok(atClose < 1500, `the connection was closed mid-stream (${atClose} committed then)`)
      closed.open()
      await waitFor(() => watch.check() && ledger.committed.length >= N && reader().unacknowledged === 0, {
        timeoutMs: 20_000,
        description: `all committed (have ${ledger.committed.length})`,
      })
      assert.is(job.metrics().restarts, 0, 'no job restart: the reader reconnected')
    } finally {
      await job.cancel()
    }
    assert.equal(sortedText(ledger.committed), names(N))
  },
)

Source(
  'backpressure: a slow sink keeps the unacknowledged messages within the prefetch, on the broker too',
  async () => {
    const N = 3000
    const prefetch = 100
    const queue = await admin.queue(uniqueName('bp'))
    await admin.publish(queue, N)
    // a fixed window (the window grows when the reader waits for it: 20 ms checkpoints at this sink's rate would)
    const source = new RabbitMQSource({ url: AMQP_URL, queue, prefetch, maxPrefetch: prefetch })
    const readers = watchReaders(source, { maxUnacknowledged: (r) => r.metrics.value('maxUnacknowledged')! })
    const sink = new SlowSink<string>(10, 2)
    const received = sink.received
    const env = StreamEnvironment.create({
      parallelism: 1,
      logLevel: 'silent',
      batchSize: 16,
      channelCredits: 2,
      checkpointing: { intervalMs: 20 },
    })
    env.fromSource(source, { uid: 'src' }).pipe(map(text)).sinkTo(sink, { uid: 'slow' })
    const job = env.executeAsync()
    const watch = watchJob(job)
    const onBroker: number[] = []
    try {
      await waitFor(() => watch.check() && received.length >= 300, {
        timeoutMs: 15_000,
        description: 'reading started',
      })
      for (let i = 0; i < 3 && received.length < N; i++) onBroker.push(await unacknowledgedOnBroker(queue))
      await waitFor(() => watch.check() && received.length >= N, {
        timeoutMs: 30_000,
        description: `all received (have ${received.length})`,
      })
    } finally {
      await job.cancel()
    }
    const max = readers.at(0).maxUnacknowledged
    assert.ok(max <= prefetch, `at most the prefetch unacknowledged (max ${max})`)
    assert.ok(max >= prefetch / 2, `the bound was reached, not idle (max ${max})`)
    assert.ok(
      onBroker.every((n) => n <= prefetch),
      `the broker's unacknowledged count stays within the prefetch: ${onBroker.join(', ')}`,
    )
    assert.equal(received.values(), names(N))
  },
)

Source('a payload that does not decode goes to the dead-letter output with the reason', async () => {
  const queue = await admin.queue(uniqueName('dlq'))
  await admin.publish(queue, 1000, { body: (i) => (i % 100 === 7 ? `{broken ${i}` : JSON.stringify({ n: i })) })
  const good: number[] = []
  const letters: DeadLetter[] = []
  const env = checkpointedEnv()
  const decoded = env
    .fromSource(new RabbitMQSource({ url: AMQP_URL, queue }), { uid: 'src' })
    .pipe(decode((m: RabbitMQMessage) => (JSON.parse(text(m)) as { n: number }).n))
  decoded.sinkTo(new CallbackSink((v) => good.push(v)))
  decoded.getSideOutput(DEAD_LETTERS).sinkTo(new CallbackSink((v) => letters.push(v)))
  const job = env.executeAsync()
  const watch = watchJob(job)
  try {
    await waitFor(() => watch.check() && good.length + letters.length >= 1000, {
      timeoutMs: 15_000,
      description: 'every message decoded or dead-lettered',
    })
  } finally {
    await job.cancel()
  }
  assert.is(good.length, 990)
  assert.is(letters.length, 10)
  const letter = letters[0]!
  assert.match(letter.reason, /cannot decode: .*JSON/)
  assert.is(text(letter.record as RabbitMQMessage), '{broken 7', 'the raw message travels with the reason')
})

Source(
  "exactly-once: a message without a correlation id fails the job with ERR_MISSING_ID, or is rejected to the queue's dead-letter exchange",
  async () => {
    const dlx = await admin.exchange(uniqueName('dlx'), 'fanout')
    const deadQueue = await admin.queue(uniqueName('dead'))
    await admin.bind(deadQueue, dlx, '')
    const queue = await admin.queue(uniqueName('noid'), { deadLetterExchange: dlx })
    await admin.publish(queue, 20, { properties: (i) => (i === 5 ? {} : { correlationId: `c${i}` }) })

    const failing = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 10 } })
    failing
      .fromSource(new RabbitMQSource({ url: AMQP_URL, queue, guarantee: 'exactly-once' }))
      .pipe(map(text))
      .sinkTo(new CallbackSink(() => {}))
    const error = await settlesWithin(
      failing.execute().then(
        () => undefined,
        (e: unknown) => e,
      ),
      { timeoutMs: 10_000 },
    )
    assert.instance(error, ConnectorError)
    assert.is((error as ConnectorError).code, 'ERR_MISSING_ID')
    assert.match((error as Error).message, /correlationId/)

    const received: string[] = []
    const env = checkpointedEnv()
    env
      .fromSource(new RabbitMQSource({ url: AMQP_URL, queue, guarantee: 'exactly-once', onMissingId: 'reject' }), {
        uid: 'src',
      })
      .pipe(map(text))
      .sinkTo(new CallbackSink((v) => received.push(v)))
    const job = env.executeAsync()
    const watch = watchJob(job)
    let dead
    try {
      await waitFor(() => watch.check() && received.length >= 19, { timeoutMs: 10_000 })
      // while the job runs: on the worker executor the failed job's result may come before its worker's
      // connection closed, so m5 may reach this job only once the broker requeued it from that connection
      dead = await admin.drain(deadQueue, 1)
    } finally {
      await job.cancel()
    }
    assert.not.ok(received.includes('m5'))
    assert.is(text(dead[0]!), 'm5')
    assert.is((dead[0]!.properties.headers!['x-death'] as Array<{ reason: string }>)[0]!.reason, 'rejected')
  },
)

Source('an unreachable broker fails the job with ERR_CONNECT after the configured retries', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env
    .fromSource(
      new RabbitMQSource({
        url: 'amqp://guest:guest@127.0.0.1:1',
        queue: 'q',
        retry: { maxRetries: 2, initialDelayMs: 10 },
      }),
    )
    .sinkTo(new CallbackSink(() => {}))
  const started = performance.now()
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
    /rabbitmqSource amqp:\/\/127\.0\.0\.1:1.* no connection after 3 attempts \(maxRetries 2\): .*ECONNREFUSED/,
  )
  assert.not.match((error as Error).message, /guest:guest/, 'no credentials in messages')
  assert.ok(performance.now() - started >= 30, 'it waited between attempts')
})

Source('a queue that does not exist is ERR_NO_QUEUE at once; bad options name the option', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env
    .fromSource(new RabbitMQSource({ url: AMQP_URL, queue: uniqueName('missing'), retry: { maxRetries: Infinity } }))
    .sinkTo(new CallbackSink(() => {}))
  const error = await settlesWithin(
    env.execute().then(
      () => undefined,
      (e: unknown) => e,
    ),
    { timeoutMs: 10_000 },
  )
  assert.is((error as ConnectorError).code, 'ERR_NO_QUEUE')
  assert.throws(
    () => new RabbitMQSource({ queue: 'q', prefetch: 0 }),
    (e: unknown) => e instanceof ConfigError && e.option === 'rabbitmqSource.prefetch',
  )
  assert.throws(
    () => new RabbitMQSource({ queue: '' }),
    (e: unknown) => e instanceof ConfigError && e.option === 'rabbitmqSource.queue',
  )
  assert.throws(
    () => new RabbitMQSource({ queue: 'q', guarantee: 'twice' as never }),
    (e: unknown) => e instanceof ConfigError && e.option === 'rabbitmqSource.guarantee',
  )
  assert.is(
    new RabbitMQSource({ queue: 'q', guarantee: 'exactly-once' }).maxParallelism,
    1,
    'exactly-once reads with one subtask',
  )
})

Source('at-most-once acknowledges on emit and needs no checkpoints', async () => {
  const queue = await admin.queue(uniqueName('amo'))
  await admin.publish(queue, 5000)
  const received: string[] = []
  const source = new RabbitMQSource({ url: AMQP_URL, queue, prefetch: 100, guarantee: 'at-most-once' })
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env
    .fromSource(source, { uid: 'src' })
    .pipe(map(text))
    .sinkTo(new CallbackSink((v) => received.push(v)))
  const job = env.executeAsync()
  const watch = watchJob(job)
  try {
    await waitFor(() => watch.check() && received.length >= 5000, { timeoutMs: 15_000 })
    // on the worker executor the reader's metrics reach the coordinator every 200 ms: a fast run may end first
    await waitFor(() => operatorMetrics(job, 'src')[0]?.maxUnacknowledged !== undefined, {
      description: "the reader's metrics reported",
    })
    const max = operatorMetrics(job, 'src')[0]!.maxUnacknowledged!
    assert.ok(max <= 100, `at most the prefetch unacknowledged (max ${max})`)
  } finally {
    // at once: the cancel closes the reader (on the worker executor too, before its thread ends), and
    // the close sends what it has acknowledged; a lost acknowledgement would put its message back
    await job.cancel()
  }
  assert.equal(received, names(5000))
  assert.is(await admin.count(queue), 0, 'nothing back in the queue after the cancel')
})

Source("the reader's and the writer's counters reach job.metrics().details, labelled rabbitmq", async () => {
  const N = 300
  const input = await admin.queue(uniqueName('metrics-in'))
  const output = await admin.queue(uniqueName('metrics-out'))
  await admin.publish(input, N, withIds)
  const env = checkpointedEnv()
  env
    .fromSource(new RabbitMQSource({ url: AMQP_URL, queue: input, guarantee: 'exactly-once', prefetch: 100 }), {
      uid: 'src',
    })
    .pipe(map(text, { uid: 'text' }))
    .sinkTo(new RabbitMQSink<string>({ url: AMQP_URL, exchange: '', routingKey: output }), { uid: 'out' })
  const job = env.executeAsync()
  try {
    await checkQueueMetrics(job, 'rabbitmq', N, 100)
  } finally {
    await job.cancel()
  }
  assert.is((await admin.drain(output, N)).length, N)
})

Source.run()

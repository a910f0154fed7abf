import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  type ActiveMQMessage,
  type ActiveMQReader,
  ActiveMQSink,
  ActiveMQSource,
} from '../../../lib/connectors/activemq/index.js'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { DEAD_LETTERS, type DeadLetter, StreamEnvironment, decode, map } from '../../../lib/index.js'
import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import { checkQueueMetrics, operatorMetrics, watchJob } from '../../support/amqp-broker.js'
import { SourceDriver } from '../../support/drive-source.js'
import { growingWindowRun } from '../../support/growing-window.js'
import { Ledger, LedgerSink } from '../../support/ledger-sink.js'
import { SlowSink } from '../../support/slow-sink.js'
import { watchReaders } from '../../support/reader-gauges.js'
import { STOMP_HOST, STOMP_PORT, StompAdmin, TcpCutter, uniqueDestination } from '../../support/stomp-broker.js'
import { settlesWithin, waitFor } from '../../support/wait-for.js'
import { busyWait } from '../../support/fault-injection.js'
import { sharedRecord } from '../../support/shared-flags.js'
import { coordinatorOnly, passValue } from '../../support/worker-pass/pass-context.js'

/**
 * The ActiveMQ source over STOMP against the machine's ActiveMQ (127.0.0.1:61613, scripts/services.d):
 * cumulative (`ack: client`) acknowledgement on checkpoint completion, exactly-once by message-id across
 * restores and reconnections, durable topic subscriptions, the prefetch bound under backpressure,
 * dead letters, and connection failures (a TCP relay cuts connections to the real broker).
 */
const Source = suite('activemq source')
let admin: StompAdmin

Source.before(async () => {
  admin = await StompAdmin.open()
})
Source.after(async () => {
  await admin?.cleanup()
  await admin?.close()
})

const connection = { host: STOMP_HOST, port: STOMP_PORT }
// a message that crossed threads in a record (a dead letter from a worker) holds its body as a Uint8Array
const text = (m: ActiveMQMessage): string => Buffer.from(m.body).toString()
/** Every reader reported (on workers, metrics arrive every 200 ms) and holds nothing unacknowledged. */
const settled = (readers: readonly Readonly<Record<string, number>>[]): boolean =>
  readers.length > 0 && readers.every((r) => r.unacknowledged === 0)
const names = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `m${i + from}`)
const byNumber = (a: string, b: string): number => Number(a.slice(1)) - Number(b.slice(1))

function checkpointedEnv(parallelism = 1): StreamEnvironment {
  return StreamEnvironment.create({
    parallelism,
    logLevel: 'silent',
    checkpointing: { intervalMs: 10 },
    restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
  })
}

/** A map that throws once, on the message `failAt` (once over every thread: `sharedRecord`). */
function failOnce(failAt: string): { fn: (m: ActiveMQMessage) => string; failed: () => boolean } {
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
  'at-least-once, 2 subtasks: 12,000 messages through an injected failure and restore; every one committed',
  async () => {
    const N = 12_000
    const destination = uniqueDestination('queue', 'alo')
    await admin.publish(destination, N)
    const ledger = new Ledger<string>()
    const source = new ActiveMQSource({ ...connection, destination, prefetch: 500 })
    const faulty = failOnce('m7000')
    const env = checkpointedEnv(2)
    env
      .fromSource(source, { uid: 'src' })
      .pipe(map(faulty.fn, { uid: 'faulty' }))
      .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
    const job = env.executeAsync()
    const watch = watchJob(job)
    try {
      await waitFor(
        () => watch.check() && new Set(ledger.committed).size === N && settled(operatorMetrics(job, 'src')),
        { timeoutMs: 20_000, description: 'every message committed and acknowledged' },
      )
    } finally {
      await job.cancel()
    }
    assert.ok(faulty.failed())
    assert.equal([...new Set(ledger.committed)].sort(byNumber), names(N))
    const left = await admin.drain(destination)
    assert.ok(
      left.every((m) => ledger.committed.includes(m.body)),
      'whatever is left is a redelivery of a committed message',
    )
    console.log(
      `  at-least-once: ${ledger.committed.length - N} duplicate(s) committed, ${left.length} redelivery(ies) left in the queue`,
    )
  },
)

Source(
  'exactly-once at 1 s checkpoints: by default the window grows beyond the prefetch within maxUnacknowledgedBytes, through a failure and restore; committed exactly once each',
  async () => {
    const messages = 5000
    const destination = uniqueDestination('queue', 'eo-window')
    await admin.publish(destination, messages, { body: (i) => `m${i}`.padEnd(40, '.') })
    const options = { prefetch: 50, maxUnacknowledgedBytes: 80_000 }
    const source = new ActiveMQSource({ ...connection, destination, guarantee: 'exactly-once', ...options })
    await growingWindowRun({ source, text, messages, failAt: 'm2500', ...options })
    const left = await admin.drain(destination)
    assert.is(left.length, 0, 'nothing left unacknowledged in the queue')
  },
)

Source(
  'exactly-once: 12,000 messages through an injected failure and restore; committed exactly once each',
  async () => {
    const N = 12_000
    const destination = uniqueDestination('queue', 'eo')
    await admin.publish(destination, N)
    const ledger = new Ledger<string>()
    const source = new ActiveMQSource({ ...connection, destination, prefetch: 1000, guarantee: 'exactly-once' })
    const faulty = failOnce('m6500')
    const env = checkpointedEnv()
    env
      .fromSource(source, { uid: 'src' })
      .pipe(map(faulty.fn, { uid: 'faulty' }))
      .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
    const job = env.executeAsync()
    const watch = watchJob(job)
    try {
      await waitFor(() => watch.check() && ledger.committed.length >= N && settled(operatorMetrics(job, 'src')), {
        timeoutMs: 20_000,
        description: 'every message committed and acknowledged',
      })
    } finally {
      await job.cancel()
    }
    assert.ok(faulty.failed())
    assert.equal([...ledger.committed].sort(byNumber), names(N), 'no loss, no duplicate')
  },
)

Source(
  'exactly-once: a reader restored from a checkpoint skips redeliveries of messages emitted before it',
  async () => {
    const destination = uniqueDestination('queue', 'eo-restore')
    await admin.publish(destination, 1000)
    const source = new ActiveMQSource({ ...connection, destination, prefetch: 150, guarantee: 'exactly-once' })
    const first = await SourceDriver.start<ActiveMQMessage, unknown, ActiveMQReader>(source)
    await first.run({ maxRecords: 150, timeoutMs: 10_000 })
    const splits = first.snapshot()
    await first.close() // checkpoint 1 never completed: nothing was acknowledged, all 1000 come again
    const second = await SourceDriver.start<ActiveMQMessage, unknown, ActiveMQReader>(source, { restored: splits })
    let checkpointId = 0
    try {
      await second.run({
        until: () => second.reader.metrics.value('duplicates') === 150 && second.records.length === 850,
        timeoutMs: 10_000,
        // checkpoints complete now and then, so that acknowledgements make room in the prefetch window
        afterPoll: async () => {
          if (second.reader.unacknowledged < 100 && second.status !== 'nothing-available') return
          second.snapshot()
          await second.reader.notifyCheckpointComplete(++checkpointId)
        },
      })
      assert.equal(second.records.map(text), names(850, 150), 'only the messages after the checkpoint')
      second.snapshot()
      await second.reader.notifyCheckpointComplete(++checkpointId)
      assert.is(second.reader.unacknowledged, 0)
    } finally {
      await second.close()
    }
    assert.is((await admin.drain(destination)).length, 0, 'duplicates and new messages were acknowledged')
  },
)

Source(
  'a durable topic subscription keeps what is published while the job is down; exactly once through a restore',
  async () => {
    const destination = uniqueDestination('topic', 'durable')
    const durable = {
      ...connection,
      destination,
      clientId: passValue(() => `sluice-spec-${process.pid}-${Date.now()}`),
      subscriptionName: 'orders-job',
    }
    // The first run creates the subscription; nothing is published yet. (On the coordinator only: a
    // worker replaying the test would connect with the client id of the job the coordinator runs.)
    await coordinatorOnly(async () => {
      const creator = await SourceDriver.start(new ActiveMQSource(durable))
      await creator.close()
    }, undefined)
    await admin.publish(destination, 3000)
    const ledger = new Ledger<string>()
    const faulty = failOnce('m1500')
    const env = checkpointedEnv()
    env
      .fromSource(new ActiveMQSource({ ...durable, guarantee: 'exactly-once', prefetch: 200 }), { uid: 'src' })
      .pipe(map(faulty.fn, { uid: 'faulty' }))
      .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
    const job = env.executeAsync()
    const watch = watchJob(job)
    try {
      await waitFor(() => watch.check() && ledger.committed.length >= 3000, {
        timeoutMs: 20_000,
        description: 'all published while down committed',
      })
      await admin.publish(destination, 500, {}, 3000)
      await waitFor(() => watch.check() && ledger.committed.length >= 3500, {
        timeoutMs: 20_000,
        description: 'and what is published while it runs',
      })
    } finally {
      await job.cancel()
      await StompAdmin.removeDurableSubscription(durable.clientId, durable.subscriptionName)
    }
    assert.ok(faulty.failed())
    assert.equal([...ledger.committed].sort(byNumber), names(3500))
    assert.throws(
      () => new ActiveMQSource({ ...connection, destination }),
      (e: unknown) => e instanceof ConfigError && e.option === 'activemqSource.subscriptionName',
    )
    assert.is(new ActiveMQSource(durable).maxParallelism, 1)
  },
)

Source('reconnects after its connection is cut mid-stream and loses nothing, exactly once', async () => {
  const N = 10_000
  const destination = uniqueDestination('queue', 'eo-cut')
  await admin.publish(destination, N)
  const cutter = await TcpCutter.start()
  const ledger = new Ledger<string>()
  const source = new ActiveMQSource({
    host: STOMP_HOST,
    port: cutter.port,
    destination,
    prefetch: 200,
    guarantee: 'exactly-once',
    retry: { initialDelayMs: 20 },
  })
  const reader = (): Readonly<Record<string, number>> => operatorMetrics(job, 'src')[0] ?? {}
  let seen = 0
  const env = checkpointedEnv()
  env
    .fromSource(source, { uid: 'src' })
    .pipe(map((m: ActiveMQMessage) => (++seen % 10 === 0 ? busyWait(1) : 0, text(m)), { uid: 'slow' }))
    .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
  const job = env.executeAsync()
  const watch = watchJob(job)
  try {
    await waitFor(() => watch.check() && ledger.committed.length >= 2000, {
      timeoutMs: 15_000,
      description: '2000 committed',
    })
    assert.is(cutter.cut(), 1)
    assert.ok(ledger.committed.length < N, 'cut mid-stream')
    await waitFor(() => watch.check() && reader().connections! >= 2, {
      timeoutMs: 10_000,
      description: 'reconnected',
    })
    await waitFor(() => watch.check() && ledger.committed.length >= N && reader().unacknowledged === 0, {
      timeoutMs: 20_000,
      description: `all committed (have ${ledger.committed.length})`,
    })
    assert.is(job.metrics().restarts, 0, 'no job restart: the reader reconnected')
    console.log(`  cut: ${reader().duplicates} redelivery(ies) skipped`)
  } finally {
    await job.cancel()
    await cutter.stop()
  }
  assert.equal([...ledger.committed].sort(byNumber), names(N))
})

Source('backpressure: a slow sink keeps the unacknowledged messages within the prefetch', async () => {
  const N = 3000
  const prefetch = 100
  const destination = uniqueDestination('queue', 'bp')
  await admin.publish(destination, N)
  // a fixed window (the window grows when the reader waits for it: 20 ms checkpoints at this sink's rate may)
  const source = new ActiveMQSource({ ...connection, destination, prefetch, maxPrefetch: prefetch })
  const readers = watchReaders(source, { maxUnacknowledged: (r) => r.metrics.value('maxUnacknowledged')! })
  const sink = new SlowSink<string>(10, 2)
  const received = sink.received
  const env = StreamEnvironment.create({
    logLevel: 'silent',
    batchSize: 16,
    channelCredits: 2,
    checkpointing: { intervalMs: 20 },
  })
  env.fromSource(source, { uid: 'src' }).pipe(map(text)).sinkTo(sink, { uid: 'slow' })
  const job = env.executeAsync()
  const watch = watchJob(job)
  try {
    await waitFor(() => watch.check() && received.length >= N, {
      timeoutMs: 30_000,
      description: `all received (have ${received.length})`,
    })
  } finally {
    await job.cancel()
    await admin.drain(destination) // what the last, unfinished checkpoint left unacknowledged
  }
  const max = readers.at(0).maxUnacknowledged
  assert.ok(max <= prefetch, `at most the prefetch unacknowledged (max ${max})`)
  assert.ok(max >= prefetch / 2, `the bound was reached (max ${max})`)
  assert.equal(received.values(), names(N))
})

Source('a payload that does not decode goes to the dead-letter output with the reason', async () => {
  const destination = uniqueDestination('queue', 'dlq')
  await admin.publish(destination, 500, { body: (i) => (i % 50 === 3 ? `{broken ${i}` : JSON.stringify({ n: i })) })
  const good: number[] = []
  const letters: DeadLetter[] = []
  const env = checkpointedEnv()
  const decoded = env
    .fromSource(new ActiveMQSource({ ...connection, destination }), { uid: 'src' })
    .pipe(decode((m: ActiveMQMessage) => (JSON.parse(text(m)) as { n: number }).n))
  decoded.sinkTo(new CallbackSink((v) => good.push(v)))
  decoded.getSideOutput(DEAD_LETTERS).sinkTo(new CallbackSink((v) => letters.push(v)))
  const job = env.executeAsync()
  const watch = watchJob(job)
  try {
    await waitFor(() => watch.check() && good.length + letters.length >= 500, { timeoutMs: 15_000 })
  } finally {
    await job.cancel()
    await admin.drain(destination)
  }
  assert.is(good.length, 490)
  assert.is(letters.length, 10)
  assert.match(letters[0]!.reason, /cannot decode: .*JSON/)
  assert.is(text(letters[0]!.record as ActiveMQMessage), '{broken 3')
})

Source(
  'an unreachable broker fails the job with ERR_CONNECT after the configured retries; bad options name the option',
  async () => {
    const env = StreamEnvironment.create({ logLevel: 'silent' })
    env
      .fromSource(
        new ActiveMQSource({
          host: '127.0.0.1',
          port: 1,
          destination: '/queue/x',
          retry: { maxRetries: 2, initialDelayMs: 10 },
        }),
      )
      .sinkTo(new CallbackSink(() => {}))
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
      /activemqSource stomp:\/\/127\.0\.0\.1:1 \/queue\/x: no connection after 3 attempts \(maxRetries 2\): .*ECONNREFUSED/,
    )
    assert.throws(
      () => new ActiveMQSource({ destination: 'orders' }),
      (e: unknown) => e instanceof ConfigError && e.option === 'activemqSource.destination',
    )
    assert.throws(
      () => new ActiveMQSource({ destination: '/queue/q', prefetch: 0 }),
      (e: unknown) => e instanceof ConfigError && e.option === 'activemqSource.prefetch',
    )
    assert.throws(
      () => new ActiveMQSource({ destination: '/topic/t', subscriptionName: 's' }),
      (e: unknown) => e instanceof ConfigError && e.option === 'activemqSource.clientId',
    )
  },
)

Source('at-most-once acknowledges on emit and needs no checkpoints', async () => {
  const destination = uniqueDestination('queue', 'amo')
  await admin.publish(destination, 3000)
  const received: string[] = []
  const source = new ActiveMQSource({ ...connection, destination, prefetch: 100, guarantee: 'at-most-once' })
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env
    .fromSource(source, { uid: 'src' })
    .pipe(map(text))
    .sinkTo(new CallbackSink((v) => received.push(v)))
  const job = env.executeAsync()
  const watch = watchJob(job)
  try {
    await waitFor(() => watch.check() && received.length >= 3000, { timeoutMs: 15_000 })
    // on the worker executor the reader's metrics reach the coordinator every 200 ms: a fast run may end first
    await waitFor(() => operatorMetrics(job, 'src')[0]?.maxUnacknowledged !== undefined, {
      description: "the reader's metrics reported",
    })
    const max = operatorMetrics(job, 'src')[0]!.maxUnacknowledged!
    assert.ok(max <= 100, `at most the prefetch unacknowledged (max ${max})`)
  } finally {
    await job.cancel()
  }
  assert.equal(received, names(3000))
  assert.is((await admin.drain(destination)).length, 0)
})

Source("the reader's and the writer's counters reach job.metrics().details, labelled activemq", async () => {
  const N = 300
  const input = uniqueDestination('queue', 'metrics-in')
  const output = uniqueDestination('queue', 'metrics-out')
  await admin.publish(input, N)
  const env = checkpointedEnv()
  env
    .fromSource(new ActiveMQSource({ ...connection, destination: input, guarantee: 'exactly-once', prefetch: 100 }), {
      uid: 'src',
    })
    .pipe(map(text, { uid: 'text' }))
    .sinkTo(new ActiveMQSink<string>({ ...connection, destination: output }), { uid: 'out' })
  const job = env.executeAsync()
  try {
    await checkQueueMetrics(job, 'activemq', N, 100)
  } finally {
    await job.cancel()
  }
  assert.is((await admin.drain(output, N)).length, N)
})

Source.run()

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Redis } from 'ioredis'
import { StreamEnvironment, decode, map } from '../../../lib/index.js'
import { RedisStreamSource, type RedisStreamEntry } from '../../../lib/connectors/redis/index.js'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { DEAD_LETTERS, type DeadLetter } from '../../../lib/runtime/output-tag.js'
import type { SourceOutput } from '../../../lib/runtime/source.js'
import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import { PrivateRedis, SHARED, freePort } from '../../support/brokers.js'
import { Ledger, LedgerSink } from '../../support/ledger-sink.js'
import { waitFor } from '../../support/wait-for.js'
import { TestKeys, busy, census, entryNumber, fillStream, range, readerContext } from './support.js'
import { SlowSink } from '../../support/slow-sink.js'
import { watchReaders } from '../../support/reader-gauges.js'
import { sharedRecord } from '../../support/shared-flags.js'

/**
 * The Redis Streams source against the machine's Redis (127.0.0.1:6379) and, for restarts, a
 * private redis-server with an fsync'd append-only file on a port of its own.
 */
const RedisStream = suite('redis stream source')
const redis = new Redis(SHARED.redis)
const keys = new TestKeys()

RedisStream.after(async () => {
  await keys.cleanup(redis)
  redis.disconnect()
})

const collector = (into: RedisStreamEntry[]): SourceOutput<RedisStreamEntry> => ({
  collect: (e) => void into.push(e),
  emitWatermark() {},
  markIdle() {},
})

/** Polls a reader by hand until `count` entries came out. */
async function pollUntil(
  reader: ReturnType<RedisStreamSource['createReader']>,
  into: RedisStreamEntry[],
  count: number,
): Promise<void> {
  const output = collector(into)
  const deadline = performance.now() + 10_000
  while (into.length < count) {
    if (performance.now() > deadline) throw new Error(`only ${into.length} of ${count} entries came out`)
    while (into.length < count && reader.pollNext(output) === 'more');
    if (into.length < count)
      await Promise.race([reader.isAvailable(), new Promise((resolve) => setTimeout(resolve, 50))])
  }
}

async function pendingOf(stream: string, group: string): Promise<number> {
  return Number(((await redis.call('XPENDING', stream, group)) as unknown[])[0])
}

RedisStream('validates its options, naming the option', () => {
  assert.throws(
    () => new RedisStreamSource({ stream: '', group: 'g' }),
    (e: unknown) => e instanceof ConfigError && e.option === 'redisStreamSource.stream',
  )
  assert.throws(
    () => new RedisStreamSource({ stream: 's', group: 'g', maxBuffered: 100, maxUnacknowledged: 10 }),
    (e: unknown) => e instanceof ConfigError && e.option === 'redisStreamSource.maxUnacknowledged',
  )
  assert.throws(
    () => new RedisStreamSource({ stream: 's', group: 'g', startId: 'latest' }),
    (e: unknown) => e instanceof ConfigError && e.option === 'redisStreamSource.startId',
  )
  assert.throws(
    () => new RedisStreamSource({ stream: 's', group: 'g', guarantee: 'exactly' as never }),
    (e: unknown) => e instanceof ConfigError && e.option === 'redisStreamSource.guarantee',
  )
  assert.throws(
    () =>
      new RedisStreamSource({
        stream: 's',
        group: 'g',
        connection: { mode: 'sentinel', sentinels: [{ host: 'a', port: 26379 }] } as never,
      }),
    (e: unknown) => e instanceof ConfigError && e.option === 'redisStreamSource.connection.masterName',
  )
})

RedisStream(
  'acknowledges an entry only when the checkpoint after it completes, earlier checkpoints included',
  async () => {
    const stream = keys.key('ack')
    await fillStream(redis, stream, 30)
    const reader = new RedisStreamSource({ stream, group: 'g', claimIdleMs: 0 }).createReader(readerContext())
    try {
      await reader.start()
      const out: RedisStreamEntry[] = []
      await pollUntil(reader, out, 10)
      reader.snapshotState(1)
      await pollUntil(reader, out, 20)
      reader.snapshotState(2)
      await pollUntil(reader, out, 30)
      assert.is(await pendingOf(stream, 'g'), 30, 'read, not acknowledged')
      await reader.notifyCheckpointComplete(1)
      assert.is(await pendingOf(stream, 'g'), 20, 'checkpoint 1 acknowledged the first 10')
      reader.snapshotState(3)
      await reader.notifyCheckpointComplete(3)
      assert.is(await pendingOf(stream, 'g'), 0, 'checkpoint 3 subsumes checkpoint 2')
      assert.equal(out.map(entryNumber), range(30))
      assert.equal(out[0]!.fields, { n: '0', payload: '{"n":0}' })
    } finally {
      await reader.close()
    }
  },
)

RedisStream(
  'a restarted reader reads its own pending entries from id 0 first, then idle ones of other consumers',
  async () => {
    const stream = keys.key('pending')
    await fillStream(redis, stream, 40)
    const first = new RedisStreamSource({ stream, group: 'g', consumer: 'job', claimIdleMs: 0 }).createReader(
      readerContext(),
    )
    await first.start()
    const before: RedisStreamEntry[] = []
    await pollUntil(first, before, 40)
    await first.close() // a crash: nothing acknowledged
    // another consumer of the group read 10 more and died
    await fillStream(redis, stream, 10, 40)
    await redis.call('XREADGROUP', 'GROUP', 'g', 'dead-consumer', 'COUNT', 10, 'STREAMS', stream, '>')
    await new Promise((resolve) => setTimeout(resolve, 60))
    const again = new RedisStreamSource({ stream, group: 'g', consumer: 'job', claimIdleMs: 50 }).createReader(
      readerContext(),
    )
    try {
      await again.start()
      const after: RedisStreamEntry[] = []
      await pollUntil(again, after, 50)
      assert.equal(after.slice(0, 40).map(entryNumber), range(40), 'its own pending entries, in order, first')
      assert.equal(
        after
          .slice(40)
          .map(entryNumber)
          .sort((a, b) => a - b),
        range(10, 40),
        "the dead consumer's idle entries, claimed",
      )
      assert.is(again.counts.claimed, 10)
      again.snapshotState(1)
      await again.notifyCheckpointComplete(1)
      assert.is(await pendingOf(stream, 'g'), 0)
    } finally {
      await again.close()
    }
  },
)

RedisStream(
  "never claims a sibling subtask's idle entries (a restored sibling re-reads them), only those of consumers outside the job",
  async () => {
    const stream = keys.key('siblings')
    await fillStream(redis, stream, 30)
    // subtask 1 of this job read 10 and was restored (its re-read of its pending list leaves them idle);
    // a consumer of an old parallelism (subtask 2 of 3) read 10 and is gone
    await redis.call('XGROUP', 'CREATE', stream, 'g', '0')
    await redis.call('XREADGROUP', 'GROUP', 'g', 'job-1', 'COUNT', 10, 'STREAMS', stream, '>')
    await redis.call('XREADGROUP', 'GROUP', 'g', 'job-2', 'COUNT', 10, 'STREAMS', stream, '>')
    await redis.call('XREADGROUP', 'GROUP', 'g', 'job-1', 'COUNT', 10, 'STREAMS', stream, '0')
    for (const deadline = performance.now() + 5000; ; ) {
      const idle = (await redis.call('XPENDING', stream, 'g', 'IDLE', 20, '-', '+', 100)) as unknown[]
      if (idle.length === 20) break
      if (performance.now() > deadline) throw new Error(`only ${idle.length} of 20 entries idle for 20 ms`)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const reader = new RedisStreamSource({
      stream,
      group: 'g',
      consumer: 'job',
      claimIdleMs: 20,
      bounded: true,
    }).createReader(readerContext(0, 2))
    try {
      await reader.start()
      const read: RedisStreamEntry[] = []
      await pollUntil(reader, read, 20)
      const output = collector(read)
      await waitFor(() => reader.pollNext(output) === 'end', {
        timeoutMs: 5000,
        description: 'the bounded reader ends',
      })
      assert.equal(
        read.map(entryNumber).sort((a, b) => a - b),
        range(20, 10),
        "the old consumer's 10 and the 10 new, never the sibling's",
      )
      assert.is(reader.counts.claimed, 10)
      const owners = (await redis.call('XPENDING', stream, 'g')) as [number, string, string, [string, string][]]
      assert.equal(
        Object.fromEntries(owners[3]),
        { 'job-0': '20', 'job-1': '10' },
        'the sibling still owns its entries',
      )
    } finally {
      await reader.close()
    }
  },
)

/** Runs the stream through a map that throws once at entry `failAt`, with checkpoints, into a ledger. */
async function runWithFailure(
  stream: string,
  guarantee: 'at-least-once' | 'exactly-once',
  count: number,
  parallelism: number,
): Promise<{ committed: number[]; restarts: number }> {
  const ledger = new Ledger<number>()
  // once over every thread, counted over every thread (on the worker executor too)
  const fault = sharedRecord({ failed: false, seen: 0 })
  const env = StreamEnvironment.create({
    parallelism,
    logLevel: 'silent',
    checkpointing: { intervalMs: 10 },
    restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
  })
  env
    .fromSource(new RedisStreamSource({ stream, group: 'g', guarantee, bounded: true, batchSize: 100 }), { uid: 'src' })
    .pipe(
      map(
        (e: RedisStreamEntry) => {
          const seen = ++fault.seen
          if (seen % 100 === 0) busy(1)
          const n = entryNumber(e)
          if (!fault.failed && seen > count / 2) {
            fault.failed = true
            throw new Error('injected')
          }
          return n
        },
        { uid: 'faulty' },
      ),
    )
    .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
  const result = await env.execute()
  assert.ok(fault.failed, 'the failure was injected')
  return { committed: ledger.committed, restarts: result.metrics.restarts }
}

RedisStream(
  'exactly-once: 12,000 entries through an injected failure and a restore, each committed once (2 subtasks)',
  async () => {
    const stream = keys.key('exactly-once')
    await fillStream(redis, stream, 12_000)
    const { committed, restarts } = await runWithFailure(stream, 'exactly-once', 12_000, 2)
    assert.is(restarts, 1)
    const { missing, duplicates } = census(committed, 12_000)
    assert.equal(missing, [], 'nothing lost')
    assert.is(duplicates, 0, 'no entry committed twice')
    assert.is(await pendingOf(stream, 'g'), 0, 'everything acknowledged at the end')
  },
)

RedisStream('at-least-once: 12,000 entries through an injected failure lose nothing', async () => {
  const stream = keys.key('at-least-once')
  await fillStream(redis, stream, 12_000)
  const { committed } = await runWithFailure(stream, 'at-least-once', 12_000, 1)
  const { missing } = census(committed, 12_000)
  assert.equal(missing, [], 'nothing lost')
  assert.is(await pendingOf(stream, 'g'), 0)
})

RedisStream('a malformed payload goes to the dead-letter output with the reason', async () => {
  const stream = keys.key('malformed')
  await fillStream(redis, stream, 500, 0, (n) => (n % 100 === 7 ? `{not json ${n}` : JSON.stringify({ n })))
  const good: number[] = []
  const letters: DeadLetter[] = []
  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 10 } })
  const decoded = env
    .fromSource(new RedisStreamSource({ stream, group: 'g', bounded: true }), { uid: 'src' })
    .pipe(decode((e: RedisStreamEntry) => (JSON.parse(e.fields.payload!) as { n: number }).n))
  decoded.sinkTo(new CallbackSink((n: number) => void good.push(n)))
  decoded.getSideOutput(DEAD_LETTERS).sinkTo(new CallbackSink((letter: DeadLetter) => void letters.push(letter)))
  await env.execute()
  assert.is(good.length, 495)
  assert.is(letters.length, 5)
  const first = letters.find((l) => (l.record as RedisStreamEntry).fields.n === '7')!
  assert.ok(first, 'the entry itself is in the letter')
  assert.match(first.reason, /cannot decode: .*JSON/)
  assert.is(await pendingOf(stream, 'g'), 0, 'dead-lettered entries are acknowledged too: they were handled')
})

RedisStream('backpressure: a slow sink keeps the unacknowledged entries within maxUnacknowledged', async () => {
  const stream = keys.key('backpressure')
  await fillStream(redis, stream, 6000)
  const source = new RedisStreamSource({
    stream,
    group: 'g',
    bounded: true,
    batchSize: 50,
    maxBuffered: 100,
    maxUnacknowledged: 300,
  })
  const readers = watchReaders(source, { maxUnacknowledgedSeen: (r) => r.maxUnacknowledgedSeen })
  const sink = new SlowSink<RedisStreamEntry, number>(100, 5, entryNumber)
  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 50 }, chaining: false })
  env.fromSource(source, { uid: 'src' }).sinkTo(sink)
  const job = env.executeAsync()
  let maxPending = 0
  const probe = setInterval(() => {
    void pendingOf(stream, 'g').then(
      (n) => {
        maxPending = Math.max(maxPending, n)
      },
      () => {},
    )
  }, 10)
  try {
    await job.result
  } finally {
    clearInterval(probe)
  }
  assert.is(sink.received.length, 6000)
  const most = readers.at(0).maxUnacknowledgedSeen
  assert.ok(most <= 300, `reader held ${most} unacknowledged`)
  assert.ok(most >= 100, `the bound was reached (${most}), so it was tested`)
  assert.ok(maxPending <= 300, `Redis saw ${maxPending} pending entries for the group`)
})

RedisStream(
  'reconnects after a Redis restart mid-stream and loses nothing, with no duplicate (exactly-once)',
  async () => {
    const broker = await PrivateRedis.start()
    const producer = new Redis({ port: broker.port, maxRetriesPerRequest: null, retryStrategy: () => 50 })
    producer.on('error', () => {})
    try {
      const stream = 'restart'
      await fillStream(producer, stream, 5000)
      const read = sharedRecord({ entries: 0 })
      const ledger = new Ledger<number>()
      const source = new RedisStreamSource({
        stream,
        group: 'g',
        connection: { port: broker.port },
        guarantee: 'exactly-once',
        blockMs: 100,
        checkIntervalMs: 200,
        retry: { maxRetries: 50, initialDelayMs: 20, maxDelayMs: 200 },
      })
      const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 20 } })
      env
        .fromSource(source, { uid: 'src' })
        .pipe(
          map((e: RedisStreamEntry) => {
            if (++read.entries % 50 === 0) busy(1)
            return entryNumber(e)
          }),
        )
        .sinkTo(new LedgerSink(ledger))
      const job = env.executeAsync()
      await waitFor(() => read.entries >= 2000, { timeoutMs: 15_000, description: '2,000 entries read' })
      await broker.restart('SIGKILL')
      await fillStream(producer, stream, 5000, 5000)
      await waitFor(() => ledger.committed.length >= 10_000, {
        timeoutMs: 20_000,
        description: `all 10,000 committed (have ${ledger.committed.length})`,
      })
      await job.cancel()
      const { missing, duplicates } = census(ledger.committed, 10_000)
      assert.equal(missing, [])
      assert.is(duplicates, 0)
      // the broker was killed mid-stream and the job never restarted: the reader itself reconnected
      assert.is(broker.starts, 2)
      assert.is(job.metrics().restarts, 0, 'no job restart: the reader reconnected')
    } finally {
      producer.disconnect()
      await broker.dispose()
    }
  },
)

RedisStream('an unreachable Redis fails the job with ERR_CONNECT after the configured retries', async () => {
  const port = await freePort()
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env
    .fromSource(
      new RedisStreamSource({
        stream: 's',
        group: 'g',
        connection: { port },
        retry: { maxRetries: 3, initialDelayMs: 10, maxDelayMs: 20 },
      }),
    )
    .sinkTo(new CallbackSink(() => {}))
  const started = performance.now()
  try {
    await env.execute()
    assert.unreachable('the job should fail')
  } catch (error) {
    const e =
      (error as { cause?: unknown }).cause instanceof ConnectorError
        ? (error as { cause: ConnectorError }).cause
        : error
    assert.instance(e, ConnectorError)
    assert.is((e as ConnectorError).code, 'ERR_CONNECT')
    assert.match(
      (e as Error).message,
      new RegExp(
        `redisStreamSource 127\\.0\\.0\\.1:${port}: no connection after 4 attempts \\(maxRetries 3\\): .*ECONNREFUSED`,
      ),
    )
  }
  assert.ok(performance.now() - started < 5000)
})

RedisStream.run()

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { bucketingFileSink } from '../../../lib/connectors/bucketing-file-sink/index.js'
import { kafkaSource, type KafkaRecord, StartPositions } from '../../../lib/connectors/kafka/index.js'
import { recordIsCommitted } from '../../../lib/connectors/kafka/kafka-internals.js'
import type { TopicPartition } from '../../../lib/connectors/kafka/start-position.js'
import { ConfigError, DecodeError } from '../../../lib/errors.js'
import { MetricGroup } from '../../../lib/runtime/metric-group.js'
import type { JobHandle } from '../../../lib/runtime/job-handle.js'
import type { Sink } from '../../../lib/runtime/sink.js'
import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import { DEAD_LETTERS, decode, map, StreamEnvironment, WatermarkStrategy } from '../../../lib/index.js'
import { finishedLines } from '../bucketing-file-sink/support.js'
import { type KafkaServer, startKafka } from '../../support/kafka-server.js'
import { tempDir } from '../../support/temp-dir.js'
import { waitFor } from '../../support/wait-for.js'
import { sharedRecord } from '../../support/shared-flags.js'
import { coordinatorOnly, passValue } from '../../support/worker-pass/pass-context.js'
import { ascending, busy, client, partitionEnd, produce, range, readerContext, readLog } from './support.js'

/**
 * The Kafka source against Apache Kafka (one KRaft node, spec/support/kafka-server.ts): partitions split
 * over subtasks, offsets in the checkpoint across a failure, start positions (by timestamp too),
 * discovery of new topics and of partitions added to a topic, backpressure and offset commits.
 */
const Source = suite('kafka source')
let kafka: KafkaServer
let brokers: string[]

Source.before(async () => {
  kafka = await startKafka()
  brokers = kafka.brokers
})
Source.after(async () => {
  await kafka?.stop() // undefined when the start in before() failed: uvu reports that failure
})

type StringRecord = KafkaRecord<string | null, string | null, string>

/** A sink that hands every record to `f` on the test's thread (a `CallbackSink`: on the worker executor too). */
function collect<T>(f: (value: T) => unknown): Sink<T> {
  return new CallbackSink<T>((value) => void f(value))
}

/**
 * Runs a job (parallelism 2) whose source lists partitions every 50 ms and adds `label(record)` to
 * `seen` for each record; resolves when it runs.
 */
async function discovering(
  options: Pick<Parameters<typeof kafkaSource<StringRecord>>[0], 'topics' | 'topicPattern' | 'startFrom'>,
  label: (record: StringRecord) => string,
  seen: Set<string>,
): Promise<JobHandle> {
  const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent' })
  env
    .fromSource(
      kafkaSource<StringRecord>({
        brokers,
        deserializer: 'string',
        partitionDiscoveryIntervalMs: 50,
        fetchMaxWaitMs: 20,
        ...options,
      }),
      { uid: 'k' },
    )
    .sinkTo(collect((r: StringRecord) => seen.add(label(r))))
  const job = env.executeAsync()
  await job.running
  return job
}

Source('reads every partition once, split over the subtasks, with key, headers and the record timestamp', async () => {
  await kafka.createTopic('split', 5)
  const t0 = Date.now() - 60_000
  await produce(
    brokers,
    'split',
    range(3_000).map((i) => ({
      key: `k${i % 7}`,
      value: String(i),
      partition: i % 5,
      headers: { n: String(i) },
      timestamp: String(t0 + i),
    })),
  )
  const env = StreamEnvironment.create({ parallelism: 3, logLevel: 'silent' })
  const out = (await env
    .fromSource(kafkaSource<StringRecord>({ brokers, topics: 'split', deserializer: 'string', stopAt: 'latest' }), {
      uid: 'k',
    })
    .executeAndCollect()) as StringRecord[]
  assert.equal(ascending(out.map((r) => Number(r.value))), range(3_000))
  const r = out.find((x) => x.value === '42')!
  assert.equal([r.topic, r.partition, r.key, r.headers.n, r.timestamp], ['split', 2, 'k0', '42', t0 + 42])
  // Offsets are in order within each partition.
  for (let p = 0; p < 5; p++) {
    const offsets = out.filter((x) => x.partition === p).map((x) => x.offset)
    assert.equal(offsets, ascending(offsets), `partition ${p} in offset order`)
  }
})

Source(
  'a failure mid-stream restores the checkpointed offsets: the exactly-once file sink holds the input exactly',
  async () => {
    await kafka.createTopic('restore', 4)
    await produce(
      brokers,
      'restore',
      range(6_000).map((i) => ({ value: String(i), partition: i % 4 })),
    )
    // Each input record lies in the log once, so a duplicate in the output is the engine's.
    assert.equal(ascending((await readLog(brokers, 'restore')).map((r) => Number(r.value))), range(6_000))
    const dir = tempDir('sluice-kafka-')
    try {
      const env = StreamEnvironment.create({
        parallelism: 2,
        logLevel: 'silent',
        checkpointing: { intervalMs: 20 },
        restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
      })
      // once over every thread, counted over every thread (on the worker executor too)
      const fault = sharedRecord({ failed: false, seen: 0 })
      env
        .fromSource(
          kafkaSource<StringRecord>({
            brokers,
            topics: 'restore',
            deserializer: 'string',
            fetchMaxWaitMs: 20,
            maxBufferedRecords: 500,
          }),
          { uid: 'kafka' },
        )
        .pipe(
          map(
            (r: StringRecord) => {
              const seen = ++fault.seen
              if (seen % 50 === 0) busy(1)
              // Fail once a checkpoint has completed (a finished part file exists) and records follow it.
              if (!fault.failed && seen > 3_000 && seen % 100 === 0 && finishedLines(dir.path).length > 0) {
                fault.failed = true
                throw new Error('injected')
              }
              return r.value!
            },
            { uid: 'faulty' },
          ),
        )
        .sinkTo(bucketingFileSink<string>(dir.path), { uid: 'files' })
      const job = env.executeAsync()
      await waitFor(() => fault.failed, { timeoutMs: 20_000, description: 'the failure was injected' })
      // Records written after the restore are read too.
      await produce(
        brokers,
        'restore',
        range(2_000).map((i) => ({ value: String(6_000 + i), partition: i % 4 })),
      )
      await waitFor(() => finishedLines(dir.path).length >= 8_000, {
        timeoutMs: 20_000,
        intervalMs: 50,
        description: 'all 8000 records committed',
      })
      const restarts = job.metrics().restarts
      await job.cancel()
      assert.ok(restarts >= 1, 'the job restarted')
      assert.equal(ascending(finishedLines(dir.path).map(Number)), range(8_000))
    } finally {
      dir.remove()
    }
  },
)

Source('a checkpoint taken while the reader is still starting keeps the offsets it was restored with', async () => {
  await kafka.createTopic('starting', 2)
  await produce(
    brokers,
    'starting',
    range(20).map((i) => ({ value: String(i), partition: i % 2 })),
  )
  const split = (partition: number, offset: number) => ({ v: 1 as const, topic: 'starting', partition, offset })
  // Partition 0 twice, as a rescaled restore can list it: the later offset wins.
  const reader = kafkaSource({ brokers, topics: 'starting' }).createReader(readerContext(), [
    split(0, 1),
    split(0, 3),
    split(1, 5),
  ])
  const positions = (id: number) =>
    reader
      .snapshotState(id)
      .map((s) => `${s.partition}@${s.offset}`)
      .sort()
  const starting = reader.start()
  try {
    // Still connecting: no partition is owned yet, and none may fall back to its first record.
    assert.equal(positions(1), ['0@3', '1@5'])
    await starting
    assert.equal(positions(2), ['0@3', '1@5'])
  } finally {
    await reader.close()
  }
})

Source(
  'start positions: earliest, latest, specific offsets with fallback, committed with fallback, timestamp',
  async () => {
    await kafka.createTopic('starts', 2)
    // the jobs start from timestamps: a worker replaying the test builds them with the coordinator's t0
    const t0 = Number(passValue(() => String(Date.now() - 3_600_000)))
    await produce(
      brokers,
      'starts',
      range(20).map((i) => ({ value: String(i), partition: i % 2, timestamp: String(t0 + i * 1000) })),
    )
    const read = async (options: Parameters<typeof kafkaSource<StringRecord>>[0]): Promise<number[]> => {
      const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent' })
      const out = (await env
        .fromSource(
          kafkaSource<StringRecord>({
            brokers,
            topics: 'starts',
            deserializer: 'string',
            stopAt: 'latest',
            ...options,
          }),
          { uid: 'k' },
        )
        .executeAndCollect()) as StringRecord[]
      return ascending(out.map((r) => Number(r.value)))
    }
    assert.equal(await read({ startFrom: 'earliest' }), range(20))
    assert.equal(await read({ startFrom: 'latest' }), [])
    // Partition 0 holds the even values at offsets 0..9: offset 7 is value 14. Partition 1 falls back to latest.
    assert.equal(await read({ startFrom: StartPositions.offsets({ 'starts:0': 7 }, 'latest') }), [14, 16, 18])
    // The group committed offset 8 on partition 1 (values 17, 19 remain); partition 0 has none: earliest.
    // on the coordinator only: in a worker replaying the test for a later job, the group may be in use
    // by that job already, and Kafka refuses to set the offsets of a group with members
    await coordinatorOnly(async () => {
      const admin = client(brokers).admin()
      await admin.connect()
      await admin.setOffsets({ groupId: 'starts-group', topic: 'starts', partitions: [{ partition: 1, offset: '8' }] })
      await admin.disconnect()
    }, undefined)
    assert.equal(
      await read({
        groupId: 'starts-group',
        commitOffsetsOnCheckpoint: false,
        startFrom: StartPositions.committed('earliest'),
      }),
      [0, 2, 4, 6, 8, 10, 12, 14, 16, 17, 18, 19],
    )
    // ListOffsets by time: each partition from its first record at or after the timestamp (value i was
    // written at t0 + i s); none that new: from the end.
    assert.equal(await read({ startFrom: StartPositions.timestamp(t0 + 14_500) }), [15, 16, 17, 18, 19])
    assert.equal(await read({ startFrom: StartPositions.timestamp(t0 + 19_000) }), [19])
    assert.equal(await read({ startFrom: StartPositions.timestamp(Date.now() + 3_600_000) }), [])
  },
)

Source('a topic that matches the pattern and is created while the job runs is read from its first record', async () => {
  await kafka.createTopic('disc-a', 2)
  await produce(
    brokers,
    'disc-a',
    range(10).map((i) => ({ value: `a${i}`, partition: i % 2 })),
  )
  const seen = new Set<string>()
  const job = await discovering({ topicPattern: /^disc-/, startFrom: 'latest' }, (r) => r.value!, seen)
  await produce(brokers, 'disc-a', [{ value: 'a-live', partition: 0 }])
  await waitFor(() => seen.has('a-live'), { timeoutMs: 10_000, description: 'a record written after the start' })
  // Written before the reader found the topic: 'startFrom: latest' applies only to the first assignment.
  await kafka.createTopic('disc-b', 3)
  await produce(
    brokers,
    'disc-b',
    range(6).map((i) => ({ value: `b${i}`, partition: i % 3 })),
  )
  await waitFor(() => range(6).every((i) => seen.has(`b${i}`)), {
    timeoutMs: 10_000,
    description: 'every record of the new topic',
  })
  await job.cancel()
  assert.not.ok(
    [...seen].some((v) => /^a\d$/.test(v)),
    'startFrom latest skipped the records of the first assignment',
  )
})

Source(
  'partitions that appear while the job runs are read from their first record (a listed topic created later)',
  async () => {
    const seen = new Set<string>()
    const job = await discovering({ topics: ['grow-a', 'grow-b'] }, (r) => `${r.topic}/${r.partition}/${r.value}`, seen)
    await kafka.createTopic('grow-b', 3)
    await produce(
      brokers,
      'grow-b',
      range(9).map((i) => ({ value: String(i), partition: i % 3 })),
    )
    await waitFor(() => seen.size === 9, {
      timeoutMs: 10_000,
      description: `records of the three new partitions (have ${[...seen].join(', ')})`,
    })
    await job.cancel()
    assert.equal(
      [...seen].sort(),
      range(9)
        .map((i) => `grow-b/${i % 3}/${i}`)
        .sort(),
    )
  },
)

Source('partitions added to an existing topic are found by discovery and read from their first record', async () => {
  await kafka.createTopic('widen', 2)
  await produce(
    brokers,
    'widen',
    range(4).map((i) => ({ value: `old${i}`, partition: i % 2 })),
  )
  const seen = new Set<string>()
  const job = await discovering({ topics: 'widen' }, (r) => `${r.partition}/${r.value}`, seen)
  await waitFor(() => seen.size === 4, { timeoutMs: 10_000, description: 'the records of the first two partitions' })
  await kafka.addPartitions('widen', 5)
  // Written before discovery can have seen the new partitions: read from their first record, none missed.
  await produce(
    brokers,
    'widen',
    range(3).map((i) => ({ value: `new${i}`, partition: 2 + i })),
  )
  await waitFor(() => seen.size === 7, {
    timeoutMs: 15_000,
    description: `the records of the three added partitions (have ${[...seen].join(', ')})`,
  })
  await job.cancel()
  assert.equal([...seen].sort(), ['0/old0', '0/old2', '1/old1', '1/old3', '2/new0', '3/new1', '4/new2'])
})

Source('fetching pauses while the buffer is full and resumes as the job takes records', async () => {
  await kafka.createTopic('pause', 2)
  await produce(
    brokers,
    'pause',
    range(2_000).map((i) => ({ value: String(i), partition: i % 2 })),
  )
  const metrics = new MetricGroup('kafka')
  const reader = kafkaSource({
    brokers,
    topics: 'pause',
    maxBufferedRecords: 100,
    fetchMaxWaitMs: 10,
    maxPartitionFetchBytes: 4096,
    fetchMaxBytes: 8192,
    partitionDiscoveryIntervalMs: 20,
  }).createReader({ ...readerContext(), metrics })
  await reader.start()
  try {
    await waitFor(() => metrics.value('fetchPauses')! > 0, { timeoutMs: 5_000, description: 'fetching paused' })
    const requests = metrics.value('fetchRequests')
    // five discoveries (20 ms apart) on the reader's own clock are ten fetch waits (10 ms)
    const discoveries = metrics.value('discoveries')!
    await waitFor(() => metrics.value('discoveries')! >= discoveries + 5, { description: 'five discoveries' })
    assert.is(metrics.value('fetchRequests'), requests, 'no fetch while the buffer is full')
    // Bounded: the limit plus at most one answer per broker.
    assert.ok(reader.bufferedRecords <= 100 + 2 * 300, `buffered ${reader.bufferedRecords}`)
    const values: number[] = []
    const output = {
      collect: (r: KafkaRecord) => values.push(Number(r.value!.toString())),
      emitWatermark() {},
      markIdle() {},
    }
    while (values.length < 2_000) {
      if (reader.pollNext(output) === 'nothing-available')
        await Promise.race([reader.isAvailable(), new Promise((r) => setTimeout(r, 5_000))])
    }
    assert.equal(ascending(values), range(2_000))
    assert.ok(metrics.value('fetchPauses')! > 1, `paused ${metrics.value('fetchPauses')} times`)
  } finally {
    await reader.close()
  }
})

Source(
  'per-partition watermarks: the minimum over the partitions, and an idle partition stops holding it back',
  async () => {
    await kafka.createTopic('marks', 2)
    // Partition 0 lags: its timestamps are far behind partition 1's.
    await produce(brokers, 'marks', [
      ...range(5).map((i) => ({ value: `p0-${i}`, partition: 0, timestamp: String(1_000 + i) })),
      ...range(5).map((i) => ({ value: `p1-${i}`, partition: 1, timestamp: String(50_000 + i) })),
    ])
    const strategy = WatermarkStrategy.forMonotonousTimestamps<KafkaRecord>().withIdleness(300)
    const reader = kafkaSource({
      brokers,
      topics: 'marks',
      watermarks: strategy,
      watermarkIntervalMs: 20,
      fetchMaxWaitMs: 20,
    }).createReader(readerContext())
    const marks: number[] = []
    let idle = 0
    const records: Array<{ value: string; ts: number | undefined }> = []
    const output = {
      collect: (r: KafkaRecord, ts?: number) => void records.push({ value: r.value!.toString(), ts }),
      emitWatermark: (w: number) => void marks.push(w),
      markIdle: () => void idle++,
    }
    const pump = async (until: () => boolean, description: string): Promise<void> => {
      const deadline = Date.now() + 10_000
      while (!until()) {
        assert.ok(Date.now() < deadline, description)
        if (reader.pollNext(output) === 'nothing-available')
          await Promise.race([reader.isAvailable(), new Promise((r) => setTimeout(r, 20))])
      }
    }
    await reader.start()
    try {
      await pump(() => records.length === 10 && marks.length > 0, 'all records and a watermark')
      assert.equal(records.find((r) => r.value === 'p1-2')!.ts, 50_002, 'records carry their Kafka timestamp')
      assert.ok(
        marks.every((w) => w <= 1_004 - 1),
        `the watermark follows the lagging partition: ${marks.join(', ')}`,
      )
      // Partition 0 gets nothing more; partition 1 moves on. Once partition 0 is idle, partition 1 decides.
      await produce(brokers, 'marks', [{ value: 'p1-late', partition: 1, timestamp: '60000' }])
      await pump(
        () => marks.at(-1) === 59_999,
        `the watermark reaches partition 1's after partition 0 went idle: ${marks.join(', ')}`,
      )
      // Both idle: the reader is idle, so downstream stops waiting for it.
      await pump(() => idle > 0, 'the reader marked idle once every partition was')
    } finally {
      await reader.close()
    }
  },
)

Source('offsets are committed to the group when a checkpoint completes, and a new job starts from them', async () => {
  await kafka.createTopic('commits', 2)
  await produce(
    brokers,
    'commits',
    range(1_000).map((i) => ({ value: String(i), partition: i % 2 })),
  )
  const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent', checkpointing: { intervalMs: 20 } })
  const got: number[] = []
  env
    .fromSource(
      kafkaSource<StringRecord>({
        brokers,
        topics: 'commits',
        groupId: 'monitor',
        deserializer: 'string',
        fetchMaxWaitMs: 20,
      }),
      { uid: 'k' },
    )
    .sinkTo(collect((r: StringRecord) => got.push(Number(r.value))))
  const job = env.executeAsync()
  // asked of the broker by the coordinator only (a worker replaying the test stops here)
  await coordinatorOnly(async () => {
    const admin = client(brokers).admin()
    await admin.connect()
    const committed = async (): Promise<number> => {
      try {
        return (await admin.fetchOffsets({ groupId: 'monitor', topics: ['commits'] }))[0]!.partitions.reduce(
          (s, p) => s + Math.max(0, Number(p.offset)),
          0,
        )
      } catch (error) {
        // the group's coordinator may still be loading the offsets (a loaded machine): ask again
        if ((error as { retriable?: boolean }).retriable === true) return -1
        throw error
      }
    }
    try {
      const deadline = Date.now() + 30_000
      while ((await committed()) !== 1_000) {
        assert.ok(Date.now() < deadline, 'committed offsets reach the end of both partitions within 30 s')
        await new Promise((r) => setTimeout(r, 50))
      }
    } finally {
      await admin.disconnect()
    }
  }, undefined)
  await job.cancel()
  assert.equal(ascending(got), range(1_000))
  await produce(
    brokers,
    'commits',
    range(10).map((i) => ({ value: String(1_000 + i), partition: i % 2 })),
  )
  const next = (await StreamEnvironment.create({ parallelism: 1, logLevel: 'silent' })
    .fromSource(
      kafkaSource<StringRecord>({
        brokers,
        topics: 'commits',
        groupId: 'monitor',
        commitOffsetsOnCheckpoint: false,
        deserializer: 'string',
        stopAt: 'latest',
        startFrom: StartPositions.committed(),
      }),
      { uid: 'k' },
    )
    .executeAndCollect()) as StringRecord[]
  assert.equal(
    ascending(next.map((r) => Number(r.value))),
    range(10).map((i) => 1_000 + i),
  )
})

/** Waits until `topic`'s partition 0 holds `end` offsets: the marker of a transaction just ended is written. */
async function logEndReaches(topic: string, end: number): Promise<void> {
  const deadline = performance.now() + 10_000
  while ((await partitionEnd(brokers, topic, 'read_uncommitted')) < end) {
    if (performance.now() > deadline) throw new Error(`${topic}: log end never reached ${end}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The transactions of the read_committed test, in topic 'aborted'. */
async function writeAborted(): Promise<void> {
  const producers = await Promise.all(
    ['A', 'B', 'C'].map(async (id) => {
      const producer = client(brokers).producer({ transactionalId: `aborted-${id}`, maxInFlightRequests: 1 })
      await producer.connect()
      return producer
    }),
  )
  try {
    const [a, b, c] = await Promise.all(producers.map((p) => p.transaction()))
    const send = (t: typeof a, value: string) => t!.send({ topic: 'aborted', messages: [{ value }], acks: -1 })
    // The log: 0 a1, 1 b1, 2 c1, 3 b2, 4 a2, 5 B's abort marker, 6 A's, 7 C's commit marker. The broker
    // lists the aborted transactions in the order of their markers, B (from 1) before A (from 0), and
    // a fetch from 4 finds both open: kafkajs's own filter read a1 and a2 as committed.
    for (const [t, value] of [
      [a, 'a1'],
      [b, 'b1'],
      [c, 'c1'],
      [b, 'b2'],
      [a, 'a2'],
    ] as const)
      await send(t, value)
    for (const [i, t] of [b, a].entries()) {
      await t!.abort()
      await logEndReaches('aborted', 6 + i)
    }
    await c!.commit()
    await logEndReaches('aborted', 8)
  } finally {
    for (const p of producers) await p.disconnect()
  }
}

Source(
  'read_committed: records of aborted transactions are never read, whatever the order of their aborts and the offset a fetch starts at',
  async () => {
    await kafka.createTopic('aborted', 1)
    // written on the coordinator only: a worker replaying the test would write the transactions again
    await coordinatorOnly(writeAborted, undefined)
    const visible = []
    for (let offset = 0; offset < 5; offset++)
      visible.push(await recordIsCommitted(client(brokers), { topic: 'aborted', partition: 0, offset }))
    assert.equal(visible, [false, false, true, false, false], 'a fetch from each offset sees c1 alone')
    assert.equal(
      (await readLog(brokers, 'aborted', 'read_committed')).map((r) => r.value),
      ['c1'],
    )
    const env = StreamEnvironment.create({ logLevel: 'silent' })
    const read = (await env
      .fromSource(kafkaSource<StringRecord>({ brokers, topics: 'aborted', deserializer: 'string', stopAt: 'latest' }), {
        uid: 'k',
      })
      .executeAndCollect()) as StringRecord[]
    assert.equal(
      read.map((r) => r.value),
      ['c1'],
      'the source (read_committed by default) reads c1 alone',
    )
  },
)

Source(
  'undecodable payloads: raw records decoded downstream go to the dead-letter output; a throwing deserializer fails naming the record',
  async () => {
    await kafka.createTopic('decode', 1)
    await produce(brokers, 'decode', [{ value: '{"n":1}' }, { value: 'not json' }, { value: '{"n":3}' }])
    const env = StreamEnvironment.create({ logLevel: 'silent' })
    const decoded = env
      .fromSource(kafkaSource({ brokers, topics: 'decode', stopAt: 'latest' }), { uid: 'k' })
      .pipe(decode((r: KafkaRecord) => JSON.parse(r.value!.toString()) as { n: number }))
    const dead: unknown[] = []
    const good: unknown[] = []
    decoded.getSideOutput(DEAD_LETTERS).sinkTo(collect((v) => dead.push(v)))
    decoded.sinkTo(collect((v) => good.push(v)))
    await env.execute()
    assert.equal(good, [{ n: 1 }, { n: 3 }])
    assert.is(dead.length, 1)
    assert.match(JSON.stringify(dead[0]), /cannot decode/)

    const failing = StreamEnvironment.create({ logLevel: 'silent' })
    failing
      .fromSource(
        kafkaSource({
          brokers,
          topics: 'decode',
          stopAt: 'latest',
          deserializer: (r) => JSON.parse(r.value!.toString()),
        }),
        { uid: 'k' },
      )
      .sinkTo(collect(() => undefined))
    try {
      await failing.execute()
      assert.unreachable('the job should fail')
    } catch (error) {
      let e: unknown = error
      while (e !== undefined && !(e instanceof DecodeError)) e = (e as { cause?: unknown }).cause
      assert.ok(e instanceof DecodeError, `a DecodeError in the chain: ${String(error)}`)
      assert.match((e as DecodeError).message, /decode\/0@1/)
    }
  },
)

Source(
  'consumer group: a rebalance that arrives while the previous one is still looking up start offsets leaves the latest assignment alone',
  async () => {
    await kafka.createTopic('rebalanced', 4)
    const reports: string[][] = []
    const reader = kafkaSource({
      brokers,
      topics: 'rebalanced',
      groupId: 'rebalanced',
      assignment: 'consumer-group',
      onPartitionsAssigned: ({ partitions }) => void reports.push(partitions),
    }).createReader(readerContext())
    // What the group membership hands the reader after each rebalance (its listener).
    const assign = (partitions: number[]) =>
      (reader as unknown as { reassign(p: TopicPartition[]): void }).reassign(
        partitions.map((partition) => ({ topic: 'rebalanced', partition })),
      )
    await reader.start()
    try {
      await waitFor(() => reader.ownedPartitions.length === 4, { description: 'the only member holds all four' })
      assign([])
      await waitFor(() => reports.at(-1)?.length === 0, { description: 'every partition revoked' })
      const before = reports.length
      // Two rebalances in a row: the first's start offsets are still being looked up when the second comes.
      assign([0, 1])
      assign([2])
      // One report for each (a kafkajs-level rebalance always ends in one).
      await waitFor(() => reports.length === before + 2, {
        description: () => `two reports: ${JSON.stringify(reports)}`,
      })
      assert.equal(reports.at(-1), ['rebalanced:2'], 'the last report is the latest assignment')
      assert.equal(reader.ownedPartitions, ['rebalanced:2'], 'no partition of the superseded assignment is read')
    } finally {
      await reader.close()
    }
  },
)

Source('bad options are refused when the job is built, naming the option', () => {
  const option = (f: () => unknown): string | undefined => {
    try {
      f()
    } catch (e) {
      return e instanceof ConfigError ? e.option : `not a ConfigError: ${String(e)}`
    }
    return undefined
  }
  assert.is(
    option(() => kafkaSource({ topics: 'a' })),
    'kafkaSource.brokers',
  )
  assert.is(
    option(() => kafkaSource({ brokers: ['h:1'] })),
    'kafkaSource.topics',
  )
  assert.is(
    option(() => kafkaSource({ brokers: ['h:1'], topics: 'a', topicPattern: /a/ })),
    'kafkaSource.topics',
  )
  assert.is(
    option(() => kafkaSource({ brokers: ['h:1'], topics: 'a', startFrom: StartPositions.committed() })),
    'kafkaSource.startFrom',
  )
  assert.is(
    option(() => kafkaSource({ brokers: ['h:1'], topics: 'a', assignment: 'consumer-group' })),
    'kafkaSource.groupId',
  )
  assert.is(
    option(() => kafkaSource({ brokers: ['h:1'], topics: 'a', maxBufferedRecords: 0 })),
    'kafkaSource.maxBufferedRecords',
  )
  assert.is(
    option(() => kafkaSource({ brokers: ['h:1'], topics: 'a', startFrom: StartPositions.offsets({ nope: 1 }) })),
    'kafkaSource.startFrom.offsets',
  )
  assert.is(
    option(() => kafkaSource({ brokers: ['h:1'], topics: 'a', deserializer: 'json' as never })),
    'kafkaSource.deserializer',
  )
})

Source.run()

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { GetRecordsCommand, type KinesisClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-kinesis'
import { bucketingFileSink } from '../../../lib/connectors/bucketing-file-sink/index.js'
import {
  aggregate,
  kinesisSource,
  type KinesisRecord,
  type KinesisShardSplit,
} from '../../../lib/connectors/kinesis/index.js'
import { ConfigError } from '../../../lib/errors.js'
import { CallbackSink, map, StreamEnvironment, WatermarkStrategy } from '../../../lib/index.js'
import { MetricGroup } from '../../../lib/runtime/metric-group.js'
import type { Sink } from '../../../lib/runtime/sink.js'
import type { SourceReader } from '../../../lib/runtime/source.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { finishedLines } from '../bucketing-file-sink/support.js'
import { tempDir } from '../../support/temp-dir.js'
import { waitFor } from '../../support/wait-for.js'
import { sharedRecord } from '../../support/shared-flags.js'
import { credentials, type Kinesalite, newClient, startKinesalite } from './support.js'
import { busyWait } from '../../support/fault-injection.js'

/**
 * The Kinesis source against kinesalite (in this process): shards split over subtasks, sequence
 * numbers in the checkpoint across a failure, a split and a merge while the job runs, throttling,
 * KPL de-aggregation and start positions.
 */
const Source = suite('kinesis source')
let kinesis: Kinesalite

/**
 * Puts 30 rounds of one record for each of 24 keys into `stream` (two shards), splitting shard 0 after
 * round 10 and merging its upper half with shard 1 after round 20.
 */
async function putAcrossReshards(stream: string): Promise<{ keys: string[]; rounds: number }> {
  const keys = range(24).map((k) => `key-${k}`)
  const rounds = 30
  for (let round = 0; round < rounds; round++) {
    await kinesis.put(
      stream,
      keys.map((key) => ({ data: `${key}:${round}`, partitionKey: key })),
    )
    if (round === 10) await kinesis.split(stream, 'shardId-000000000000')
    // shardId-000000000003 (upper half of the split) and shardId-000000000001 are adjacent: merge them.
    if (round === 20) await kinesis.merge(stream, 'shardId-000000000003', 'shardId-000000000001')
  }
  return { keys, rounds }
}

Source.before(async () => {
  kinesis = await startKinesalite()
})
Source.after(async () => {
  await kinesis.stop()
})

type TextRecord = KinesisRecord<string>
const range = (n: number) => Array.from({ length: n }, (_, i) => i)
const ascending = (v: number[]) => [...v].sort((a, b) => a - b)
const fast = { pollIntervalMs: 10, shardDiscoveryIntervalMs: 50 }
const context = (subtask = 0, parallelism = 1) => ({ subtask, parallelism, processingTime: systemProcessingTime })

/** Calls `f` with each record in this thread (on the worker executor too: a CallbackSink is thread-bridged). */
function collect<T>(f: (value: T) => unknown): Sink<T> {
  return new CallbackSink((v: T) => void f(v))
}

/** Polls a reader outside a job until `done`, collecting its records. */
async function drain<T>(reader: SourceReader<T>, out: T[], done: () => boolean, description: string): Promise<void> {
  const output = { collect: (v: T) => void out.push(v), emitWatermark() {}, markIdle() {} }
  const deadline = Date.now() + 15_000
  while (!done()) {
    assert.ok(Date.now() < deadline, description)
    if (reader.pollNext(output) === 'nothing-available')
      await Promise.race([reader.isAvailable(), new Promise((r) => setTimeout(r, 20))])
  }
}

/** Takes what the reader has now, without waiting. */
function takeAvailable<T>(reader: SourceReader<T>, out: T[]): void {
  const output = { collect: (v: T) => void out.push(v), emitWatermark() {}, markIdle() {} }
  while (reader.pollNext(output) === 'more');
}

Source(
  'reads every shard once, split over the subtasks, with partition key, sequence number and arrival time',
  async () => {
    await kinesis.createStream('split-read', 4)
    await kinesis.put(
      'split-read',
      range(2_000).map((i) => ({ data: String(i), partitionKey: `k${i % 37}` })),
    )
    const got: TextRecord[] = []
    const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent' })
    env
      .fromSource(
        kinesisSource<TextRecord>({
          stream: 'split-read',
          client: { endpoint: kinesis.endpoint, ...credentials },
          startFrom: 'TRIM_HORIZON',
          deserializer: 'string',
          ...fast,
        }),
        { uid: 'k' },
      )
      .sinkTo(collect((r: TextRecord) => got.push(r)))
    const job = env.executeAsync()
    await waitFor(() => got.length >= 2_000, { timeoutMs: 15_000, description: 'all records' })
    await job.cancel()
    assert.equal(ascending(got.map((r) => Number(r.data))), range(2_000))
    const r = got.find((x) => x.data === '40')!
    assert.is(r.partitionKey, 'k3')
    assert.match(r.sequenceNumber, /^\d+$/)
    assert.ok(Math.abs(r.arrivalTimestamp - Date.now()) < 60_000, 'arrival time in ms')
    assert.is(new Set(got.map((x) => x.shardId)).size, 4)
  },
)

Source(
  'a failure mid-stream restores the checkpointed sequence numbers: the exactly-once file sink holds the input exactly',
  async () => {
    await kinesis.createStream('restore', 4)
    await kinesis.put(
      'restore',
      range(6_000).map((i) => ({ data: String(i), partitionKey: `k${i}` })),
    )
    const dir = tempDir('sluice-kinesis-')
    try {
      const env = StreamEnvironment.create({
        parallelism: 2,
        logLevel: 'silent',
        checkpointing: { intervalMs: 20 },
        restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
      })
      // shared by every thread of the test: on the worker executor the failure fires once over the workers
      const fault = sharedRecord({ failed: false, seen: 0 })
      env
        .fromSource(
          kinesisSource<TextRecord>({
            stream: 'restore',
            client: { endpoint: kinesis.endpoint, ...credentials },
            startFrom: 'TRIM_HORIZON',
            deserializer: 'string',
            recordsPerFetch: 200,
            maxBufferedRecords: 400,
            ...fast,
          }),
          { uid: 'kinesis' },
        )
        .pipe(
          map(
            (r: TextRecord) => {
              const seen = ++fault.seen
              if (seen % 50 === 0) busyWait(1)
              if (!fault.failed && seen > 3_000 && seen % 100 === 0 && finishedLines(dir.path).length > 0) {
                fault.failed = true
                throw new Error('injected')
              }
              return r.data
            },
            { uid: 'faulty' },
          ),
        )
        .sinkTo(bucketingFileSink<string>(dir.path), { uid: 'files' })
      const job = env.executeAsync()
      await waitFor(() => fault.failed, { timeoutMs: 20_000, description: 'the failure was injected' })
      await kinesis.put(
        'restore',
        range(2_000).map((i) => ({ data: String(6_000 + i), partitionKey: `k${i}` })),
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

Source(
  'a split and a merge while the job runs: every record read once, each key in order, parents before children',
  async () => {
    await kinesis.createStream('reshard', 2)
    const got: string[] = []
    const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent', checkpointing: { intervalMs: 50 } })
    env
      .fromSource(
        kinesisSource<TextRecord>({
          stream: 'reshard',
          client: { endpoint: kinesis.endpoint, ...credentials },
          startFrom: 'TRIM_HORIZON',
          deserializer: 'string',
          ...fast,
        }),
        { uid: 'k' },
      )
      .sinkTo(
        collect((r: TextRecord) => got.push(`${r.shardId} ${r.data}`)),
        { parallelism: 1 },
      )
    const job = env.executeAsync()
    await job.running
    const { keys, rounds } = await putAcrossReshards('reshard')
    await waitFor(() => got.length >= keys.length * rounds, {
      timeoutMs: 20_000,
      description: `all ${keys.length * rounds} records (have ${got.length})`,
    })
    // a record read twice would come from a later fetch: let every reader discover twice more (two
    // discovery intervals, ten poll intervals) while the shards are fetched again, before the count is checked
    const perSubtask = (name: string) =>
      job
        .metrics()
        .details.filter((d) => d.operator === 'k')
        .map((d) => d.metrics[name] as number)
    const total = (name: string) => perSubtask(name).reduce((a, b) => a + b, 0)
    const discoveries = perSubtask('discoveries')
    const fetches = total('fetchCalls')
    assert.is(discoveries.length, 2, 'both reader subtasks report their counters')
    await waitFor(
      () => perSubtask('discoveries').every((n, i) => n >= discoveries[i]! + 2) && total('fetchCalls') > fetches,
      {
        description: () =>
          `two more discoveries on each reader (${discoveries} → ${perSubtask('discoveries')}) and more fetches (${fetches} → ${total('fetchCalls')})`,
      },
    )
    await job.cancel()
    const values = got.map((line) => line.split(' ')[1]!)
    assert.is(values.length, keys.length * rounds, 'no record twice')
    assert.is(new Set(values).size, keys.length * rounds, 'every record once')
    for (const key of keys) {
      const order = values.filter((v) => v.startsWith(`${key}:`)).map((v) => Number(v.split(':')[1]))
      assert.equal(order, range(rounds), `${key} in order`)
    }
    const shards = new Set(got.map((line) => line.split(' ')[0]))
    assert.ok(
      ['shardId-000000000002', 'shardId-000000000003', 'shardId-000000000004'].every((s) => shards.has(s)),
      `children were read: ${[...shards].join(', ')}`,
    )
    // A parent's last record comes before its children's first.
    const first = (shard: string) => got.findIndex((l) => l.startsWith(`${shard} `))
    const last = (shard: string) => got.length - 1 - [...got].reverse().findIndex((l) => l.startsWith(`${shard} `))
    assert.ok(
      last('shardId-000000000000') < first('shardId-000000000002') &&
        last('shardId-000000000000') < first('shardId-000000000003'),
      'split: parent before children',
    )
    assert.ok(
      last('shardId-000000000003') < first('shardId-000000000004') &&
        last('shardId-000000000001') < first('shardId-000000000004'),
      'merge: both parents before the child',
    )
  },
)

Source(
  "a failure after a merge restores the finished parents and the child's position: the exactly-once file sink holds every record once",
  async () => {
    await kinesis.createStream('reshard-restore', 2)
    const dir = tempDir('sluice-kinesis-reshard-')
    try {
      const env = StreamEnvironment.create({
        parallelism: 2,
        logLevel: 'silent',
        checkpointing: { intervalMs: 20 },
        restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
      })
      // shared by every thread of the test: on the worker executor the failure fires once over the workers
      const fault = sharedRecord({ failed: false, merged: false })
      env
        .fromSource(
          kinesisSource<TextRecord>({
            stream: 'reshard-restore',
            client: { endpoint: kinesis.endpoint, ...credentials },
            startFrom: 'TRIM_HORIZON',
            deserializer: 'string',
            ...fast,
          }),
          { uid: 'k' },
        )
        .pipe(
          map(
            (r: TextRecord) => {
              // the merge's child (shard 4): its parents were read by both subtasks
              if (r.shardId === 'shardId-000000000004') fault.merged = true
              if (fault.merged && !fault.failed && finishedLines(dir.path).length > 0) {
                fault.failed = true
                throw new Error('injected')
              }
              return r.data
            },
            { uid: 'faulty' },
          ),
        )
        .sinkTo(bucketingFileSink<string>(dir.path), { uid: 'files' })
      const job = env.executeAsync()
      await job.running
      const { keys, rounds } = await putAcrossReshards('reshard-restore')
      await waitFor(() => fault.failed, { timeoutMs: 20_000, description: 'the failure was injected' })
      await waitFor(() => finishedLines(dir.path).length >= keys.length * rounds, {
        timeoutMs: 20_000,
        intervalMs: 50,
        description: () => `all ${keys.length * rounds} records committed (have ${finishedLines(dir.path).length})`,
      })
      const restarts = job.metrics().restarts
      await job.cancel()
      assert.ok(restarts >= 1, 'the job restarted')
      const lines = finishedLines(dir.path)
      assert.is(lines.length, keys.length * rounds, 'no record twice')
      assert.is(new Set(lines).size, keys.length * rounds, 'every record once')
    } finally {
      dir.remove()
    }
  },
)

Source(
  "with checkpointing, a finished shard counts for the reader's own children at once and for the other subtasks once a checkpoint recording it completed",
  async () => {
    await kinesis.createStream('announce', 1)
    await kinesis.put(
      'announce',
      range(5).map((i) => ({ data: `parent-${i}`, partitionKey: `k${i}` })),
    )
    await kinesis.split('announce', 'shardId-000000000000')
    await kinesis.put(
      'announce',
      range(5).map((i) => ({ data: `child-${i}`, partitionKey: `k${i}` })),
    )
    const source = kinesisSource<TextRecord>({
      stream: 'announce',
      client: { endpoint: kinesis.endpoint, ...credentials },
      startFrom: 'TRIM_HORIZON',
      deserializer: 'string',
      ...fast,
    })
    const reader = source.createReader({ ...context(), checkpointIntervalMs: 1_000 })
    await reader.start()
    const out: TextRecord[] = []
    try {
      await drain(reader, out, () => out.length >= 10, "the parent's records, then its children's")
      assert.equal(
        out.slice(0, 5).map((r) => r.data),
        range(5).map((i) => `parent-${i}`),
      )
      const parent = 'shardId-000000000000'
      assert.not.ok(source.finishedShards.isFinished(parent), 'not told to the other subtasks before a checkpoint')
      const splits = reader.snapshotState(7)
      assert.ok(
        splits.some((s) => s.shardId === parent && s.finished),
        'the checkpoint records the parent as finished',
      )
      reader.notifyCheckpointComplete(6)
      assert.not.ok(source.finishedShards.isFinished(parent), 'an earlier checkpoint does not record it')
      reader.notifyCheckpointComplete(7)
      assert.ok(source.finishedShards.isFinished(parent), 'told once the checkpoint recording it completed')
    } finally {
      reader.close()
    }
  },
)

Source('throttling: ProvisionedThroughputExceeded answers back off and nothing is lost', async () => {
  await kinesis.createStream('throttle', 2)
  await kinesis.put(
    'throttle',
    range(500).map((i) => ({ data: String(i), partitionKey: `k${i}` })),
  )
  const client = newClient(kinesis.endpoint)
  const send = client.send.bind(client) as (command: unknown) => Promise<unknown>
  let calls = 0
  ;(client as unknown as { send: (command: unknown) => Promise<unknown> }).send = (command) => {
    if (command instanceof GetRecordsCommand && ++calls <= 12 && calls % 2 === 1) {
      return Promise.reject(
        new ProvisionedThroughputExceededException({ message: 'Rate exceeded for shard', $metadata: {} }),
      )
    }
    return send(command)
  }
  const metrics = new MetricGroup('kinesis')
  const reader = kinesisSource<TextRecord>({
    stream: 'throttle',
    client: client as KinesisClient,
    startFrom: 'TRIM_HORIZON',
    deserializer: 'string',
    recordsPerFetch: 50,
    throttleBackoffMs: 5,
    ...fast,
  }).createReader({ ...context(), metrics })
  await reader.start()
  const out: TextRecord[] = []
  try {
    await drain(reader, out, () => out.length >= 500, 'all records despite throttling')
  } finally {
    reader.close()
  }
  assert.equal(ascending(out.map((r) => Number(r.data))), range(500))
  assert.ok(metrics.value('throttledCalls')! >= 6, `throttled calls counted: ${metrics.value('throttledCalls')}`)
})

Source(
  'KPL-aggregated records are split into user records, and a restore inside an aggregate resumes after the last one emitted',
  async () => {
    await kinesis.createStream('kpl', 1)
    const users = (batch: number) =>
      range(5).map((i) => ({ partitionKey: `user-${batch}-${i}`, data: Buffer.from(`${batch}.${i}`) }))
    await kinesis.put('kpl', [
      { data: aggregate(users(0)), partitionKey: 'agg-0' },
      { data: 'plain-1', partitionKey: 'p1' },
      { data: aggregate(users(2)), partitionKey: 'agg-2' },
    ])
    const source = kinesisSource<TextRecord>({
      stream: 'kpl',
      client: { endpoint: kinesis.endpoint, ...credentials },
      startFrom: 'TRIM_HORIZON',
      deserializer: 'string',
      ...fast,
    })
    const first = source.createReader(context())
    await first.start()
    const out: TextRecord[] = []
    await drain(first, out, () => out.length >= 1, 'the first records')
    // Take records up to the middle of the second aggregate, then checkpoint.
    await drain(first, out, () => out.length >= 8, 'eight user records')
    const splits = JSON.parse(JSON.stringify(first.snapshotState(1))) as KinesisShardSplit[]
    first.close()
    assert.equal(
      out.slice(0, 8).map((r) => r.data),
      ['0.0', '0.1', '0.2', '0.3', '0.4', 'plain-1', '2.0', '2.1'],
    )
    assert.equal(
      out.slice(0, 8).map((r) => r.partitionKey),
      ['user-0-0', 'user-0-1', 'user-0-2', 'user-0-3', 'user-0-4', 'p1', 'user-2-0', 'user-2-1'],
    )
    assert.equal([out[0]!.subSequenceNumber, out[5]!.subSequenceNumber, out[7]!.subSequenceNumber], [0, undefined, 1])
    const secondMetrics = new MetricGroup('kinesis')
    const second = kinesisSource<TextRecord>({
      stream: 'kpl',
      client: { endpoint: kinesis.endpoint, ...credentials },
      startFrom: 'TRIM_HORIZON',
      deserializer: 'string',
      ...fast,
    }).createReader({ ...context(), metrics: secondMetrics }, splits)
    await second.start()
    const rest: TextRecord[] = []
    try {
      await drain(second, rest, () => rest.length >= 3, 'the rest of the aggregate')
      // two more GetRecords calls answered: whatever else the shard held would be buffered by now
      const calls = secondMetrics.value('fetchCalls') ?? 0
      await waitFor(() => (secondMetrics.value('fetchCalls') ?? 0) >= calls + 2, {
        description: 'two more fetches after the aggregate',
      })
      takeAvailable(second, rest)
    } finally {
      second.close()
    }
    assert.equal(
      rest.map((r) => r.data),
      ['2.2', '2.3', '2.4'],
    )
  },
)

Source('start positions: LATEST reads what arrives after the start, AT_TIMESTAMP from a time on', async () => {
  await kinesis.createStream('starts', 2)
  await kinesis.put(
    'starts',
    range(10).map((i) => ({ data: `old-${i}`, partitionKey: `k${i}` })),
  )
  // kinesalite (in this process) stamps arrivals with Date.now(): once the clock moved past the end of
  // the put, \`between\` is after every old record; once it moved past \`between\`, every later one is after it
  const oldPut = Date.now()
  await waitFor(() => Date.now() > oldPut, { description: 'the clock moved past the old records' })
  const between = Date.now()
  await waitFor(() => Date.now() > between, { description: 'the clock moved past the start time' })
  await kinesis.put(
    'starts',
    range(10).map((i) => ({ data: `mid-${i}`, partitionKey: `k${i}` })),
  )
  const latestMetrics = new MetricGroup('kinesis')
  const reader = kinesisSource<TextRecord>({
    stream: 'starts',
    client: { endpoint: kinesis.endpoint, ...credentials },
    startFrom: 'LATEST',
    deserializer: 'string',
    ...fast,
  }).createReader({ ...context(), metrics: latestMetrics })
  await reader.start()
  // a GetRecords call per shard: both LATEST iterators were taken before the new records arrive
  await waitFor(() => (latestMetrics.value('fetchCalls') ?? 0) >= 2, { description: 'a fetch on each of the 2 shards' })
  await kinesis.put(
    'starts',
    range(10).map((i) => ({ data: `new-${i}`, partitionKey: `k${i}` })),
  )
  const latest: TextRecord[] = []
  try {
    await drain(reader, latest, () => latest.length >= 10, 'the new records')
  } finally {
    reader.close()
  }
  assert.ok(
    latest.every((r) => r.data.startsWith('new-')),
    latest.map((r) => r.data).join(','),
  )
  const fromTime = kinesisSource<TextRecord>({
    stream: 'starts',
    client: { endpoint: kinesis.endpoint, ...credentials },
    startFrom: { atTimestamp: between },
    deserializer: 'string',
    ...fast,
  }).createReader(context())
  await fromTime.start()
  const timed: TextRecord[] = []
  try {
    await drain(fromTime, timed, () => timed.length >= 20, 'records from the timestamp on')
  } finally {
    fromTime.close()
  }
  assert.equal(
    timed.map((r) => r.data.split('-')[0]).sort(),
    [...range(10).map(() => 'mid'), ...range(10).map(() => 'new')].sort(),
  )
})

Source('per-shard watermarks: the minimum over the shards, and an idle shard stops holding it back', async () => {
  await kinesis.createStream('marks', 2)
  const upper = (await kinesis.shards('marks'))[1]!.HashKeyRange!.StartingHashKey!
  // Shard 0 lags: its event times are far behind shard 1's.
  await kinesis.put('marks', [
    ...range(5).map((i) => ({ data: String(1_000 + i), partitionKey: 'a', explicitHashKey: '0' })),
    ...range(5).map((i) => ({ data: String(50_000 + i), partitionKey: 'b', explicitHashKey: upper })),
  ])
  const strategy = WatermarkStrategy.forMonotonousTimestamps<TextRecord>()
    .withTimestampAssigner((r) => Number(r.data))
    .withIdleness(300)
  const reader = kinesisSource<TextRecord>({
    stream: 'marks',
    client: { endpoint: kinesis.endpoint, ...credentials },
    startFrom: 'TRIM_HORIZON',
    deserializer: 'string',
    watermarks: strategy,
    watermarkIntervalMs: 20,
    ...fast,
  }).createReader(context())
  const marks: number[] = []
  let idle = 0
  const out: Array<{ data: string; ts: number | undefined }> = []
  const output = {
    collect: (r: TextRecord, ts?: number) => void out.push({ data: r.data, ts }),
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
    await pump(() => out.length === 10 && marks.length > 0, 'all records and a watermark')
    assert.is(out.find((r) => r.data === '50002')!.ts, 50_002, 'the strategy assigns the event time')
    assert.ok(
      marks.every((w) => w <= 1_003),
      `the watermark follows the lagging shard: ${marks.join(', ')}`,
    )
    await kinesis.put('marks', [{ data: '60000', partitionKey: 'b', explicitHashKey: upper }])
    await pump(
      () => marks.at(-1) === 59_999,
      `the watermark reaches shard 1's once shard 0 is idle: ${marks.join(', ')}`,
    )
    await pump(() => idle > 0, 'the reader is idle once every shard is')
  } finally {
    reader.close()
  }
})

Source('fetching waits while the buffer is full', async () => {
  await kinesis.createStream('bounded', 2)
  await kinesis.put(
    'bounded',
    range(1_000).map((i) => ({ data: String(i), partitionKey: `k${i}` })),
  )
  const metrics = new MetricGroup('kinesis')
  const reader = kinesisSource<TextRecord>({
    stream: 'bounded',
    client: { endpoint: kinesis.endpoint, ...credentials },
    startFrom: 'TRIM_HORIZON',
    deserializer: 'string',
    recordsPerFetch: 20,
    maxBufferedRecords: 50,
    ...fast,
  }).createReader({ ...context(), metrics })
  await reader.start()
  const out: TextRecord[] = []
  try {
    await waitFor(() => reader.bufferedRecords >= 50, { timeoutMs: 5_000, description: 'the buffer filled' })
    const calls = metrics.value('fetchCalls')
    // three discovery intervals (50 ms each) on the reader's own clock are fifteen poll intervals (10 ms)
    const discoveries = metrics.value('discoveries')!
    await waitFor(() => metrics.value('discoveries')! >= discoveries + 3, { description: 'three discoveries' })
    assert.is(metrics.value('fetchCalls'), calls, 'no GetRecords while the buffer is full')
    assert.ok(
      reader.bufferedRecords <= 50 + 2 * 20,
      `buffered at most the limit plus one answer per shard: ${reader.bufferedRecords}`,
    )
    await drain(reader, out, () => out.length >= 1_000, 'everything once the job takes records')
  } finally {
    reader.close()
  }
  assert.equal(ascending(out.map((r) => Number(r.data))), range(1_000))
})

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
    option(() => kinesisSource({ stream: '' })),
    'kinesisSource.stream',
  )
  assert.is(
    option(() => kinesisSource({ stream: 's', startFrom: 'EARLIEST' as never })),
    'kinesisSource.startFrom',
  )
  assert.is(
    option(() => kinesisSource({ stream: 's', recordsPerFetch: 20_000 })),
    'kinesisSource.recordsPerFetch',
  )
  assert.is(
    option(() => kinesisSource({ stream: 's', endpoint: 'localhost:4567' })),
    'kinesisSource.endpoint',
  )
  assert.is(
    option(() => kinesisSource({ stream: 's', deserializer: 'json' as never })),
    'kinesisSource.deserializer',
  )
})

Source.run()

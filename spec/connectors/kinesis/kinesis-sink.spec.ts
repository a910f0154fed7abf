import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  type KinesisClient,
  PutRecordsCommand,
  type PutRecordsCommandOutput,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis'
import { kinesisSink } from '../../../lib/connectors/kinesis/index.js'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { map, StreamEnvironment } from '../../../lib/index.js'
import { MetricGroup } from '../../../lib/runtime/metric-group.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { credentials, type Kinesalite, newClient, startKinesalite } from './support.js'
import { waitFor } from '../../support/wait-for.js'
import { sharedSlots } from '../../support/shared-flags.js'

/** The Kinesis sink against kinesalite; partial failures are injected by a client that rejects some entries. */
const Sink = suite('kinesis sink')
let kinesis: Kinesalite

Sink.before(async () => {
  kinesis = await startKinesalite()
})
Sink.after(async () => {
  await kinesis.stop()
})

const range = (n: number) => Array.from({ length: n }, (_, i) => i)
const ascending = (v: number[]) => [...v].sort((a, b) => a - b)
const context = { subtask: 0, parallelism: 1, processingTime: systemProcessingTime }

/** A client that sees every PutRecords request and may answer it itself. */
function interceptingClient(
  onPut: (
    entries: PutRecordsRequestEntry[],
    send: (entries: PutRecordsRequestEntry[]) => Promise<PutRecordsCommandOutput>,
  ) => Promise<PutRecordsCommandOutput>,
): KinesisClient {
  const client = newClient(kinesis.endpoint)
  const send = client.send.bind(client) as (command: unknown) => Promise<unknown>
  ;(client as unknown as { send: (command: unknown) => Promise<unknown> }).send = (command) => {
    if (!(command instanceof PutRecordsCommand)) return send(command)
    const input = command.input
    return onPut(
      input.Records!,
      (entries) => send(new PutRecordsCommand({ ...input, Records: entries })) as Promise<PutRecordsCommandOutput>,
    )
  }
  return client
}

async function values(stream: string): Promise<number[]> {
  return [...(await kinesis.readAll(stream)).values()].flat().map((r) => Number(r.data.toString()))
}

Sink('batches within the API limits: at most 500 records and maxBatchBytes per request', async () => {
  await kinesis.createStream('batches', 2)
  const sizes: Array<{ records: number; bytes: number }> = []
  const client = interceptingClient((entries, send) => {
    sizes.push({
      records: entries.length,
      bytes: entries.reduce((s, e) => s + e.Data!.length + e.PartitionKey!.length, 0),
    })
    return send(entries)
  })
  const writer = kinesisSink<number>({
    stream: 'batches',
    client,
    maxBatchBytes: 64 * 1024,
    serializer: (n) => ({ data: `${n}`.padEnd(100, ' '), partitionKey: `k${n}` }),
  }).createWriter(context)
  for (const n of range(1_200)) writer.write(n, undefined)
  await writer.snapshotState()
  await writer.close()
  assert.ok(
    sizes.every((s) => s.records <= 500 && s.bytes <= 64 * 1024),
    JSON.stringify(sizes),
  )
  assert.equal(
    sizes.reduce((s, b) => s + b.records, 0),
    1_200,
  )
  assert.equal(ascending(await values('batches')), range(1_200))
})

Sink('partition key and explicit hash key choose the shard', async () => {
  await kinesis.createStream('routing', 2)
  const shards = await kinesis.shards('routing')
  const upper = shards[1]!.HashKeyRange!.StartingHashKey!
  const writer = kinesisSink<number>({
    stream: 'routing',
    client: { endpoint: kinesis.endpoint, ...credentials },
    serializer: (n) => ({ data: String(n), partitionKey: 'same-key', explicitHashKey: n % 2 === 0 ? '0' : upper }),
  }).createWriter(context)
  for (const n of range(20)) writer.write(n, undefined)
  await writer.snapshotState()
  await writer.close()
  const byShard = await kinesis.readAll('routing')
  assert.equal(
    byShard.get(shards[0]!.ShardId!)!.map((r) => Number(r.data.toString())),
    range(10).map((i) => 2 * i),
  )
  assert.equal(
    byShard.get(shards[1]!.ShardId!)!.map((r) => Number(r.data.toString())),
    range(10).map((i) => 2 * i + 1),
  )
  assert.ok(byShard.get(shards[0]!.ShardId!)!.every((r) => r.partitionKey === 'same-key'))
})

Sink('a partial failure: the failed entries are sent again with backoff, nothing is lost or repeated', async () => {
  await kinesis.createStream('partial', 2)
  let rounds = 0
  const client = interceptingClient(async (entries, send) => {
    // The first three requests: every third entry is throttled, the others are written.
    if (++rounds > 3) return send(entries)
    const ok = entries.filter((_, i) => i % 3 !== 0)
    const answer = await send(ok)
    let k = 0
    return {
      ...answer,
      FailedRecordCount: entries.length - ok.length,
      Records: entries.map((_, i) =>
        i % 3 === 0
          ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard' }
          : answer.Records![k++]!,
      ),
    }
  })
  const metrics = new MetricGroup('kinesis')
  const writer = kinesisSink<number>({
    stream: 'partial',
    client,
    retry: { initialDelayMs: 5 },
    serializer: (n) => ({ data: String(n), partitionKey: `k${n}` }),
  }).createWriter({ ...context, metrics })
  for (const n of range(900)) writer.write(n, undefined)
  await writer.snapshotState()
  await writer.close()
  assert.ok(metrics.value('retriedEntries')! > 0, 'entries were retried')
  assert.equal(ascending(await values('partial')), range(900))
})

Sink('a record failing more than maxRetries times fails the writer', async () => {
  const client = interceptingClient(async (entries) => ({
    $metadata: {},
    FailedRecordCount: entries.length,
    Records: entries.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' })),
  }))
  const writer = kinesisSink<number>({
    stream: 'nowhere',
    client,
    retry: { maxRetries: 2, initialDelayMs: 1 },
    serializer: (n) => ({ data: String(n), partitionKey: 'k' }),
  }).createWriter(context)
  writer.write(1, undefined)
  try {
    await writer.snapshotState()
    assert.unreachable('the barrier should fail')
  } catch (error) {
    assert.ok(error instanceof ConnectorError && error.code === 'ERR_SEND', String(error))
    assert.match((error as Error).message, /after 2 retries: InternalFailure/)
  }
  await writer.close()
})

Sink('records in flight are bounded: the writer asks for no more until Kinesis accepted some', async () => {
  await kinesis.createStream('inflight', 1)
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  let atGate = 0
  const client = interceptingClient(async (entries, send) => {
    atGate += entries.length
    await gate
    return send(entries)
  })
  const writer = kinesisSink<number>({
    stream: 'inflight',
    client,
    maxInFlightRecords: 100,
    maxBatchRecords: 50,
    serializer: (n) => ({ data: String(n), partitionKey: `k${n}` }),
  }).createWriter(context)
  for (const n of range(99)) writer.write(n, undefined)
  assert.is(writer.ready(), undefined, 'room below the bound')
  writer.write(99, undefined)
  const waiting = writer.ready()
  assert.ok(waiting instanceof Promise, 'full at the bound')
  let resumed = false
  void waiting!.then(() => (resumed = true))
  // the first batch's PutRecords waits at the gate and the second is queued behind it (one request at a
  // time): only an answer acknowledges records, and once the microtask queue has drained (the next
  // macrotask) a wrongly resolved ready() would have run its callback
  await waitFor(() => atGate === 50, { description: () => `the first batch of 50 at the gate (${atGate})` })
  await new Promise((r) => setImmediate(r))
  assert.not.ok(resumed, 'still waiting while nothing was accepted')
  release()
  await waiting
  await writer.snapshotState()
  await writer.close()
  assert.equal(ascending(await values('inflight')), range(100))
})

Sink('at-least-once across a restore: every barrier waits for Kinesis to accept what came before it', async () => {
  await kinesis.createStream('restore-out', 2)
  const env = StreamEnvironment.create({
    parallelism: 2,
    logLevel: 'silent',
    checkpointing: { intervalMs: 20 },
    restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
  })
  // shared by every thread of the test: on the worker executor the failure fires once over the workers
  // (counted and claimed atomically: two subtasks in two threads count at once)
  const fault = sharedSlots(2) // [failed, seen]
  env
    .fromSequence(0, 2_999, { uid: 'src' })
    .pipe(
      map(
        (n: number) => {
          const seen = Atomics.add(fault, 1, 1) + 1
          if (seen % 50 === 0) {
            const end = performance.now() + 1
            while (performance.now() < end);
          }
          if (seen >= 1_500 && Atomics.compareExchange(fault, 0, 0, 1) === 0) throw new Error('injected')
          return n
        },
        { uid: 'faulty' },
      ),
    )
    .sinkTo(
      kinesisSink<number>({
        stream: 'restore-out',
        client: { endpoint: kinesis.endpoint, ...credentials },
        serializer: (n) => ({ data: String(n), partitionKey: `k${n}` }),
      }),
      { uid: 'sink' },
    )
  const result = await env.execute()
  assert.ok(Atomics.load(fault, 0) === 1 && result.metrics.restarts === 1)
  assert.equal(
    [...new Set(await values('restore-out'))].sort((a, b) => a - b),
    range(3_000),
    'every record at least once',
  )
})

Sink('bad options are refused when the job is built, naming the option', () => {
  const option = (f: () => unknown): string | undefined => {
    try {
      f()
    } catch (e) {
      return e instanceof ConfigError ? e.option : `not a ConfigError: ${String(e)}`
    }
    return undefined
  }
  const serializer = (n: number) => ({ data: String(n), partitionKey: 'k' })
  assert.is(
    option(() => kinesisSink({ stream: '', serializer })),
    'kinesisSink.stream',
  )
  assert.is(
    option(() => kinesisSink({ stream: 's' } as never)),
    'kinesisSink.serializer',
  )
  assert.is(
    option(() => kinesisSink({ stream: 's', serializer, maxBatchRecords: 501 })),
    'kinesisSink.maxBatchRecords',
  )
  assert.is(
    option(() => kinesisSink({ stream: 's', serializer, maxBatchBytes: 6 * 1024 * 1024 })),
    'kinesisSink.maxBatchBytes',
  )
})

Sink.run()

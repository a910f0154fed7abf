// Cases kinesis-source and kinesis-sink — the Kinesis connectors against the raw AWS SDK client, same
// run, same server (kinesalite, in this process, started by the case).
// kinesis-source: n records in a 4-shard stream, read once from TRIM_HORIZON: the engine's
// kinesisSource (pollIntervalMs 0, parallelism 1) into a counting sink, against one GetRecords loop
// per shard (Limit 10,000, no wait) alone; each timed from its first record to its n-th.
// kinesis-sink: 1 … n written: the engine's kinesisSink (PutRecords of up to 500) against a loop of
// PutRecords of 500, each awaited; each timed from start to the last accepted record.
// n is the case's own (40,000; 10,000 with --quick): kinesalite stores records in LevelDB-in-memory
// and is far slower than the engine, so these numbers measure the overhead around the client, not
// Kinesis. There is no target in the issue for Kinesis.
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { kinesisSink, kinesisSource, type KinesisRecord } from '../../lib/connectors/kinesis/index.js'
import type { Sink } from '../../lib/runtime/sink.js'
import { type BenchCase, type RunResult, hotPhase, type HotPhase, type PhaseTime } from '../measure.js'

const require = createRequire(import.meta.url)
const SHARDS = 4
const credentials = { region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } }
let server: { endpoint: string; client: KinesisClient } | undefined
let streams = 0

async function kinesalite(): Promise<{ endpoint: string; client: KinesisClient }> {
  if (server !== undefined) return server
  const create = require('kinesalite') as (o: object) => {
    listen(p: number, h: string, cb: () => void): void
    address(): AddressInfo
    unref(): void
  }
  const s = create({ createStreamMs: 10, updateStreamMs: 10, shardLimit: 100 })
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  s.unref()
  const endpoint = `http://127.0.0.1:${s.address().port}`
  server = { endpoint, client: new KinesisClient({ endpoint, ...credentials, requestHandler: new NodeHttpHandler() }) }
  return server
}

async function newStream(client: KinesisClient): Promise<string> {
  const name = `bench-${++streams}`
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: SHARDS }))
  while (
    (await client.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary
      ?.StreamStatus !== 'ACTIVE'
  )
    await new Promise((r) => setTimeout(r, 10))
  return name
}

async function putAll(client: KinesisClient, stream: string, n: number): Promise<number> {
  let checksum = 0
  for (let i = 1; i <= n; i += 500) {
    const records = []
    for (let v = i; v < Math.min(i + 500, n + 1); v++) {
      records.push({ Data: Buffer.from(String(v)), PartitionKey: `k${v}` })
      checksum += v
    }
    const answer = await client.send(new PutRecordsCommand({ StreamName: stream, Records: records }))
    if (answer.FailedRecordCount) throw new Error(`${answer.FailedRecordCount} records failed`)
  }
  return checksum
}

class TimedCount {
  output = 0
  checksum = 0
  private phase: HotPhase | undefined
  private time: PhaseTime | undefined
  done!: () => void
  readonly finished = new Promise<void>((resolve) => (this.done = resolve))

  constructor(private readonly n: number) {}

  add(value: number): void {
    if (this.output === 0) this.phase = hotPhase()
    this.output++
    this.checksum += value
    if (this.output === this.n) {
      this.time = this.phase!.end()
      this.done()
    }
  }

  result(): RunResult {
    return { records: this.n, output: this.output, checksum: this.checksum, ...this.time! }
  }
}

async function engineSource(endpoint: string, stream: string, n: number): Promise<RunResult> {
  const count = new TimedCount(n)
  const sink: Sink<KinesisRecord> = {
    name: 'count',
    guarantee: 'at-least-once',
    createWriter: () => ({ write: (r) => count.add(Number(r.data.toString())), close() {} }),
  }
  const env = StreamEnvironment.create({ parallelism: 1, logLevel: 'silent' })
  env
    .fromSource(
      kinesisSource({ stream, client: { endpoint, ...credentials }, startFrom: 'TRIM_HORIZON', pollIntervalMs: 0 }),
      { uid: 'kinesis' },
    )
    .sinkTo(sink)
  const job = env.executeAsync('bench: kinesis source')
  await count.finished
  await job.cancel()
  return count.result()
}

async function rawSource(client: KinesisClient, stream: string, n: number): Promise<RunResult> {
  const count = new TimedCount(n)
  const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? []
  await Promise.all(
    shards.map(async (shard) => {
      let iterator = (
        await client.send(
          new GetShardIteratorCommand({
            StreamName: stream,
            ShardId: shard.ShardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        )
      ).ShardIterator
      while (iterator !== undefined && count.output < n) {
        const answer = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }))
        for (const r of answer.Records ?? []) count.add(Number(Buffer.from(r.Data!).toString()))
        if ((answer.Records ?? []).length === 0 && count.output < n) await new Promise((r) => setImmediate(r))
        iterator = answer.NextShardIterator
      }
    }),
  )
  await count.finished
  return count.result()
}

async function engineSink(endpoint: string, client: KinesisClient, n: number): Promise<RunResult> {
  const stream = await newStream(client)
  const env = StreamEnvironment.create({ parallelism: 1, logLevel: 'silent' })
  env.fromSequence(1, n, { uid: 'numbers' }).sinkTo(
    kinesisSink<number>({
      stream,
      client: { endpoint, ...credentials },
      serializer: (v) => ({ data: String(v), partitionKey: `k${v}` }),
    }),
    { uid: 'kinesis' },
  )
  const phase = hotPhase()
  await env.execute('bench: kinesis sink')
  return { records: n, output: n, checksum: (n * (n + 1)) / 2, ...phase.end() }
}

async function rawSink(client: KinesisClient, n: number): Promise<RunResult> {
  const stream = await newStream(client)
  const phase = hotPhase()
  const checksum = await putAll(client, stream, n)
  return { records: n, output: n, checksum, ...phase.end() }
}

export const kinesisSourceCase: BenchCase = {
  id: 'kinesis-source',
  title: 'Kinesis source: kinesisSource vs GetRecords loops (kinesalite, 4 shards)',
  async prepare({ quick }) {
    const n = quick ? 10_000 : 40_000
    const { endpoint, client } = await kinesalite()
    const stream = await newStream(client)
    await putAll(client, stream, n)
    return {
      reps: 3,
      warmup: 1,
      contenders: [
        { name: 'engine: kinesisSource → count', role: 'engine', run: () => engineSource(endpoint, stream, n) },
        { name: 'AWS SDK: GetRecords loop per shard', role: 'baseline', run: () => rawSource(client, stream, n) },
      ],
      notes: [
        `${n.toLocaleString('en')} records of a 4-shard stream on kinesalite; timed from the first record to the last.`,
      ],
    }
  },
}

export const kinesisSinkCase: BenchCase = {
  id: 'kinesis-sink',
  title: 'Kinesis sink: kinesisSink vs PutRecords loop (kinesalite, 4 shards)',
  async prepare({ quick }) {
    const n = quick ? 10_000 : 40_000
    const { endpoint, client } = await kinesalite()
    return {
      reps: 3,
      warmup: 1,
      contenders: [
        { name: 'engine: sequence → kinesisSink', role: 'engine', run: () => engineSink(endpoint, client, n) },
        { name: 'AWS SDK: PutRecords of 500, awaited', role: 'baseline', run: () => rawSink(client, n) },
      ],
      notes: [
        `${n.toLocaleString('en')} records into a new 4-shard stream per run; timed from the start to the last accepted record.`,
      ],
    }
  },
}

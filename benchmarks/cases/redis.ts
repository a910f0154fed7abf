// Redis cases, on the machine's Redis (127.0.0.1:6379; SLUICE_REDIS_PORT overrides), same run, same server:
// - redis-source: a stream of n entries `{ n, payload }` (SIZE bytes of payload; written before the timing
//   starts); each run reads it through a fresh consumer group. The engine: RedisStreamSource (bounded,
//   at-least-once; XACK per completed checkpoint, every CHECKPOINT_MS) into a counting sink, timed until the
//   job finished (the final checkpoint acknowledged everything). The baseline: ioredis alone, XREADGROUP
//   COUNT BATCH then XACK of that batch, until the group has nothing new.
// - redis-sink: n records become `HSET key <n> <payload>`. The engine: RedisSink (pipelines of PIPELINE
//   commands, IN_FLIGHT pipelines at most, every answer awaited on each barrier and at the end). The
//   baseline: ioredis alone sending the same pipelines with the same window.
// n is the case's own (200,000; 40,000 with --quick). Target (issue 6): engine ≥ 0.8 × the baseline.
import { CountingSink } from '../counting-sink.js'
import { Redis } from 'ioredis'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { RedisSink, RedisStreamSource, type RedisStreamEntry } from '../../lib/connectors/redis/index.js'
import { type BenchCase, type RunResult, type Summary, type TargetCheck, formatInt, hotPhase } from '../measure.js'

const PORT = Number(process.env.SLUICE_REDIS_PORT ?? 6379)
const SIZE = 100
const BATCH = 256
const PIPELINE = 1000
const IN_FLIGHT = 4
const CHECKPOINT_MS = 50
const TARGET = 0.8
const PREFIX = `sluice-bench:${process.pid}`
const STREAM = `${PREFIX}:stream`
const HASH = `${PREFIX}:hash`
const PAYLOAD = 'x'.repeat(SIZE)

let groups = 0

async function withRedis<T>(work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ port: PORT, host: '127.0.0.1' })
  try {
    return await work(redis)
  } finally {
    redis.disconnect()
  }
}

/** Writes the stream once per case (not timed). */
async function fill(n: number): Promise<void> {
  await withRedis(async (redis) => {
    await redis.del(STREAM)
    for (let i = 0; i < n; i += PIPELINE) {
      const pipeline = redis.pipeline()
      for (let k = i; k < Math.min(n, i + PIPELINE); k++) pipeline.xadd(STREAM, '*', 'n', String(k), 'payload', PAYLOAD)
      await pipeline.exec()
    }
    // the case has no teardown: the stream removes itself after the run
    await redis.expire(STREAM, 1800)
  })
}

async function engineSource(n: number): Promise<RunResult> {
  const group = `g${++groups}`
  await withRedis((redis) => redis.call('XGROUP', 'CREATE', STREAM, group, '0'))
  const sink = new CountingSink((entry: RedisStreamEntry) => Number(entry.fields.n))
  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: CHECKPOINT_MS } })
  env
    .fromSource(
      new RedisStreamSource({ connection: { port: PORT }, stream: STREAM, group, bounded: true, batchSize: BATCH }),
      { uid: 'redis' },
    )
    .sinkTo(sink)
  const phase = hotPhase()
  await env.execute('bench: redis source')
  const time = phase.end()
  const pending = await withRedis(async (redis) => {
    const summary = (await redis.call('XPENDING', STREAM, group)) as unknown[]
    await redis.call('XGROUP', 'DESTROY', STREAM, group)
    return Number(summary[0])
  })
  if (pending !== 0) throw new Error(`${pending} entries left unacknowledged`)
  return { records: n, output: sink.output, checksum: sink.checksum, ...time }
}

async function rawSource(n: number): Promise<RunResult> {
  const group = `g${++groups}`
  await withRedis((redis) => redis.call('XGROUP', 'CREATE', STREAM, group, '0'))
  // connecting is timed, as the engine's reader connects within the job
  const phase = hotPhase()
  return withRedis(async (redis) => {
    let output = 0
    let checksum = 0
    for (;;) {
      const reply = (await redis.call('XREADGROUP', 'GROUP', group, 'c', 'COUNT', BATCH, 'STREAMS', STREAM, '>')) as
        | unknown[]
        | null
      const entries = (reply === null ? [] : Array.isArray(reply[0]) ? (reply[0] as unknown[])[1] : reply[1]) as [
        string,
        string[],
      ][]
      if (entries.length === 0) break
      const ids: string[] = []
      for (const [id, fields] of entries) {
        ids.push(id)
        output++
        checksum += Number(fields[1])
      }
      await redis.call('XACK', STREAM, group, ...ids)
    }
    const time = phase.end()
    await redis.call('XGROUP', 'DESTROY', STREAM, group)
    return { records: n, output, checksum, ...time }
  })
}

async function engineSink(n: number): Promise<RunResult> {
  await withRedis((redis) => redis.del(HASH))
  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: CHECKPOINT_MS } })
  env.fromSequence(0, n - 1).sinkTo(
    new RedisSink<number>({
      connection: { port: PORT },
      mapper: { command: 'HSET', key: () => HASH, additionalKey: (i) => String(i), value: () => PAYLOAD },
      maxPipelineCommands: PIPELINE,
      maxPipelinesInFlight: IN_FLIGHT,
    }),
  )
  const phase = hotPhase()
  await env.execute('bench: redis sink')
  const time = phase.end()
  return { records: n, ...(await written(n)), ...time }
}

async function rawSink(n: number): Promise<RunResult> {
  await withRedis((redis) => redis.del(HASH))
  // connecting is timed, as the engine's writer connects within the job
  const phase = hotPhase()
  return withRedis(async (redis) => {
    const inFlight = new Set<Promise<unknown>>()
    for (let i = 0; i < n; i += PIPELINE) {
      const pipeline = redis.pipeline()
      for (let k = i; k < Math.min(n, i + PIPELINE); k++) pipeline.hset(HASH, String(k), PAYLOAD)
      const sent: Promise<unknown> = pipeline.exec().finally(() => inFlight.delete(sent))
      inFlight.add(sent)
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight)
    }
    await Promise.all(inFlight)
    const time = phase.end()
    return { records: n, ...(await written(n)), ...time }
  })
}

/** The hash's size and the sum of its fields (read back, not timed). */
async function written(n: number): Promise<{ output: number; checksum: number }> {
  return withRedis(async (redis) => {
    const output = await redis.hlen(HASH)
    await redis.del(HASH)
    // every field 0 … n-1 is there when the count is: HSET of distinct fields
    return { output, checksum: output === n ? (n * (n - 1)) / 2 : -1 }
  })
}

async function unavailable(): Promise<string | undefined> {
  try {
    await withRedis((redis) => redis.ping())
    return undefined
  } catch (error) {
    return `no Redis at 127.0.0.1:${PORT}: ${(error as Error).message}`
  }
}

function targets(s: ReadonlyMap<string, Summary>, label: string): TargetCheck[] {
  const engine = [...s.values()].find((x) => x.role === 'engine')!
  const base = [...s.values()].find((x) => x.role === 'baseline')!
  const ratio = engine.rate / base.rate
  return [
    {
      label: `${label}: engine ≥ ${TARGET} × ${base.name}`,
      pass: ratio >= TARGET,
      actual: `${ratio.toFixed(2)}× (${formatInt(engine.rate)} vs ${formatInt(base.rate)} messages/s)`,
    },
  ]
}

const size = (quick: boolean): number => (quick ? 40_000 : 200_000)
const notes = (n: number): string[] => [
  `${formatInt(n)} entries/commands of ${SIZE} bytes of payload per run whatever --records says, Redis 127.0.0.1:${PORT}; each run's own timing: connecting is timed for every contender, and the engine's job setup; writing or reading back the data is not.`,
]

export const redisSourceCase: BenchCase = {
  id: 'redis-source',
  title: `Redis Streams source: consume-and-ack, COUNT ${BATCH}, engine acknowledges per checkpoint (every ${CHECKPOINT_MS} ms)`,
  unavailable,
  async prepare({ quick }) {
    const n = size(quick)
    await fill(n)
    return {
      reps: 5,
      warmup: 1,
      unit: 'messages',
      contenders: [
        { name: 'engine: RedisStreamSource (at-least-once)', role: 'engine', run: () => engineSource(n) },
        { name: 'ioredis alone, XREADGROUP + XACK per batch', role: 'baseline', run: () => rawSource(n) },
      ],
      notes: notes(n),
      targets: (s) => targets(s, 'redis source'),
    }
  },
}

export const redisSinkCase: BenchCase = {
  id: 'redis-sink',
  title: `Redis sink: pipelined HSET, ${PIPELINE} commands per pipeline, ${IN_FLIGHT} pipelines in flight`,
  unavailable,
  prepare({ quick }) {
    const n = size(quick)
    return {
      reps: 5,
      warmup: 1,
      unit: 'messages',
      contenders: [
        { name: 'engine: RedisSink (answers awaited per checkpoint)', role: 'engine', run: () => engineSink(n) },
        { name: 'ioredis alone, same pipelines', role: 'baseline', run: () => rawSink(n) },
      ],
      notes: notes(n),
      targets: (s) => targets(s, 'redis sink'),
    }
  },
}

// Case flume-sink — the Flume sink against the same avsc client alone, same run, same agent (Apache
// Flume 1.11 started by the case with the JVM server kit: an Avro source, a memory channel and a
// file_roll sink; see spec/support/flume-agent.ts).
// 1 … n written as events (body = the number as text): the engine's flumeSink (Avro RPC, batches of
// 500) against an avsc client on one TCP connection (Nagle off, Netty framing) sending the same
// batches of 500 with appendBatch, each answered OK before the next: each timed from start to the last
// answer. n is 100,000 (30,000 with --quick).
// Target (issue 14): engine ≥ 0.8 × the avsc client alone.
import { connect } from 'node:net'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { AVRO_SOURCE_PROTOCOL, flumeSink } from '../../lib/connectors/flume/index.js'
import { Service } from 'avsc'
import { type FlumeAgent, startFlumeAgent } from '../../spec/support/flume-agent.js'
import { serverClasspath } from '../../spec/support/jvm-server.js'
import { type BenchCase, type RunResult, type Summary, type TargetCheck, hotPhase } from '../measure.js'

const TARGET = 0.8
const BATCH = 500
const ENGINE = 'engine: sequence → flumeSink (Avro RPC, batches of 500)'
const BASELINE = 'avsc client alone, appendBatch of 500, awaited'
let agent: Promise<FlumeAgent> | undefined

/** One agent for every run, started on first use; it dies with the benchmark process. */
function flumeAgent(): Promise<FlumeAgent> {
  agent ??= startFlumeAgent({ channel: 'memory', heap: '512m' }).then((a) => {
    a.unref()
    return a
  })
  return agent
}

async function engineSink(address: string, n: number): Promise<RunResult> {
  const env = StreamEnvironment.create({ parallelism: 1, logLevel: 'silent' })
  env.fromSequence(1, n, { uid: 'numbers' }).sinkTo(
    flumeSink<number>({
      hosts: address,
      maxBatchRecords: BATCH,
      lingerMs: 20,
      maxInFlightRecords: 50_000,
      mapper: (v) => ({ body: String(v) }),
    }),
    { uid: 'flume' },
  )
  const phase = hotPhase()
  await env.execute('bench: flume sink')
  return { records: n, output: n, checksum: (n * (n + 1)) / 2, ...phase.end() }
}

async function rawClient(address: string, n: number): Promise<RunResult> {
  const [host, port] = address.split(':')
  const phase = hotPhase()
  const socket = connect({ host: host!, port: Number(port), noDelay: true })
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const client = Service.forProtocol(AVRO_SOURCE_PROTOCOL).createClient({ timeout: 20_000 })
  client.createChannel(socket)
  let checksum = 0
  for (let i = 1; i <= n; i += BATCH) {
    const events: Array<{ headers: Record<string, string>; body: Buffer }> = []
    for (let v = i; v < Math.min(i + BATCH, n + 1); v++) {
      events.push({ headers: {}, body: Buffer.from(String(v)) })
      checksum += v
    }
    const status = await new Promise<string>((resolve, reject) =>
      client.emitMessage<string>('appendBatch', { events }, {}, (error, answer) =>
        error ? reject(error) : resolve(answer as string),
      ),
    )
    if (status !== 'OK') throw new Error(`appendBatch answered ${status}`)
  }
  client.destroyChannels({ noWait: true })
  socket.destroy()
  return { records: n, output: n, checksum, ...phase.end() }
}

function ratioTarget(summaries: ReadonlyMap<string, Summary>): TargetCheck[] {
  const engine = summaries.get(ENGINE)
  const baseline = summaries.get(BASELINE)
  if (engine === undefined || baseline === undefined) return []
  const ratio = engine.rate / baseline.rate
  return [
    {
      label: `flume sink: engine ≥ ${TARGET} × the avsc client alone`,
      pass: ratio >= TARGET,
      actual: `${ratio.toFixed(2)}× (${Math.round(engine.rate).toLocaleString('en')} vs ${Math.round(baseline.rate).toLocaleString('en')} events/s)`,
    },
  ]
}

export const flumeSinkCase: BenchCase = {
  id: 'flume-sink',
  title: 'Flume sink: flumeSink vs the avsc client alone (Apache Flume 1.11 agent, Avro source, memory channel)',
  async unavailable() {
    try {
      await serverClasspath('flume')
      return undefined
    } catch (error) {
      return `Flume's jars cannot be resolved (needs Java 17 and Maven: bash scripts/services.sh 50-jvm-servers): ${(error as Error).message}`
    }
  },
  async prepare({ quick }) {
    const n = quick ? 30_000 : 100_000
    const { avro } = await flumeAgent()
    return {
      reps: quick ? 3 : 5,
      warmup: 1,
      contenders: [
        { name: ENGINE, role: 'engine', run: () => engineSink(avro, n) },
        { name: BASELINE, role: 'baseline', run: () => rawClient(avro, n) },
      ],
      notes: [
        `${n.toLocaleString('en')} events (body: the number as text, no headers) to one Flume 1.11 agent on this machine (512 MiB heap; Avro source → memory channel → file_roll); each contender timed from its start to the last OK.`,
      ],
      targets: ratioTarget,
    }
  },
}

// Case cassandra-sink — the Cassandra sink against the raw cassandra-driver, same run, same server
// (Apache Cassandra 4.1, one node started by the case with the JVM server kit: see
// spec/support/cassandra-server.ts).
// 1 … n written as rows (id int, body text of 64 characters) with a prepared INSERT: the engine's
// cassandraSink (at-least-once, maxConcurrentRequests 64) against the driver's
// `concurrent.executeConcurrent` with concurrencyLevel 64 over the same parameter arrays. Each timed
// from start to the last acknowledged write. n is the case's own (30,000; 10,000 with --quick).
// Target (issue 12): engine ≥ 0.8 × executeConcurrent.
import cassandra from 'cassandra-driver'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { cassandraSink } from '../../lib/connectors/cassandra/index.js'
import { type CassandraServer, startCassandra } from '../../spec/support/cassandra-server.js'
import { serverClasspath } from '../../spec/support/jvm-server.js'
import { type BenchCase, type RunResult, type Summary, type TargetCheck, hotPhase } from '../measure.js'

const TARGET = 0.8
const CONCURRENCY = 64
const KEYSPACE = 'bench'
const BODY = 'x'.repeat(64)
let server: Promise<CassandraServer> | undefined
let runs = 0

/** One node for the case, started on first use; it dies with the benchmark process. */
function node(): Promise<CassandraServer> {
  server ??= startCassandra({ jit: 'full' }).then(async (started) => {
    started.unref()
    await withClient(started, (client) =>
      client.execute(
        `CREATE KEYSPACE IF NOT EXISTS ${KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
      ),
    )
    return started
  })
  return server
}

/** A client for one piece of work, shut down after it (an open one would keep the process from exiting). */
async function withClient<R>(started: CassandraServer, work: (client: cassandra.Client) => Promise<R>): Promise<R> {
  const client = new cassandra.Client({ contactPoints: [started.contactPoint], localDataCenter: started.dataCenter })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.shutdown()
  }
}

async function newTable(): Promise<string> {
  const table = `rows_${++runs}`
  await withClient(await node(), (client) =>
    client.execute(`CREATE TABLE ${KEYSPACE}.${table} (id int PRIMARY KEY, body text)`),
  )
  return table
}

async function engineSink(n: number): Promise<RunResult> {
  const started = await node()
  const table = await newTable()
  const env = StreamEnvironment.create({ parallelism: 1, logLevel: 'silent' })
  env.fromSequence(1, n, { uid: 'numbers' }).sinkTo(
    cassandraSink<number>({
      contactPoints: [started.contactPoint],
      localDataCenter: started.dataCenter,
      statement: (id) => ({ query: `INSERT INTO ${KEYSPACE}.${table} (id, body) VALUES (?, ?)`, params: [id, BODY] }),
      maxConcurrentRequests: CONCURRENCY,
      consistency: 'localOne',
    }),
    { uid: 'cassandra' },
  )
  const phase = hotPhase()
  await env.execute('bench: cassandra sink')
  return { records: n, output: n, checksum: (n * (n + 1)) / 2, ...phase.end() }
}

async function rawDriver(n: number): Promise<RunResult> {
  const started = await node()
  const table = await newTable()
  const phase = hotPhase()
  const client = new cassandra.Client({ contactPoints: [started.contactPoint], localDataCenter: started.dataCenter })
  await client.connect()
  const params: unknown[][] = []
  let checksum = 0
  for (let id = 1; id <= n; id++) {
    params.push([id, BODY])
    checksum += id
  }
  await cassandra.concurrent.executeConcurrent(
    client,
    `INSERT INTO ${KEYSPACE}.${table} (id, body) VALUES (?, ?)`,
    params,
    {
      concurrencyLevel: CONCURRENCY,
      executionProfile: undefined,
    },
  )
  await client.shutdown()
  return { records: n, output: n, checksum, ...phase.end() }
}

function ratioTarget(summaries: ReadonlyMap<string, Summary>, engineName: string, baselineName: string): TargetCheck[] {
  const engine = summaries.get(engineName)
  const baseline = summaries.get(baselineName)
  if (engine === undefined || baseline === undefined) return []
  const ratio = engine.rate / baseline.rate
  return [
    {
      label: `cassandra sink: engine ≥ ${TARGET} × executeConcurrent`,
      pass: ratio >= TARGET,
      actual: `${ratio.toFixed(2)}× (${Math.round(engine.rate).toLocaleString('en')} vs ${Math.round(baseline.rate).toLocaleString('en')} records/s)`,
    },
  ]
}

async function unavailable(): Promise<string | undefined> {
  try {
    await serverClasspath('cassandra')
    return undefined
  } catch (error) {
    return `Cassandra's jars cannot be resolved (needs Java 17 and Maven: bash scripts/services.sh 50-jvm-servers): ${(error as Error).message}`
  }
}

export const cassandraSinkCase: BenchCase = {
  id: 'cassandra-sink',
  title:
    'Cassandra sink: cassandraSink vs the driver’s executeConcurrent (Apache Cassandra 4.1, 1 node, concurrency 64)',
  unavailable,
  async prepare({ quick }) {
    const n = quick ? 10_000 : 30_000
    await node()
    const engineName = `engine: sequence → cassandraSink (maxConcurrentRequests ${CONCURRENCY})`
    const baselineName = `cassandra-driver executeConcurrent (concurrencyLevel ${CONCURRENCY})`
    return {
      reps: quick ? 3 : 5,
      warmup: 1,
      contenders: [
        { name: engineName, role: 'engine', run: () => engineSink(n) },
        { name: baselineName, role: 'baseline', run: () => rawDriver(n) },
      ],
      notes: [
        `${n.toLocaleString('en')} rows (an int key and 64 characters of text, one prepared INSERT each, consistency ONE) into a new table per run; timed from the job start (or client connect) to the last acknowledged write.`,
      ],
      targets: (s) => ratioTarget(s, engineName, baselineName),
    }
  },
}

// Case elasticsearch-sink — the Elasticsearch sink against the client's own bulk helper, same run, same
// server: the loopback bulk-API node of spec/support/elasticsearch-server.ts, in this process (no real
// node can be started here: docs/connectors/elasticsearch.md says why).
// n documents { v, payload } with ids v, index actions: the engine's elasticsearchSink (fromSequence →
// sink, parallelism 1) against `client.helpers.bulk` over the same documents alone; both flush at the
// same size (FLUSH_BYTES; the helper has no count limit, so the sink's maxActions is set above it) with
// the same number of requests in flight. Each timed from the start to the last acknowledged document;
// the server's document count is checked after each run. Target (issue 12): engine ≥ 0.8× the helper.
import { Client } from '@elastic/elasticsearch'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { elasticsearchSink } from '../../lib/connectors/elasticsearch/index.js'
import { type ElasticsearchServer, startElasticsearchServer } from '../../spec/support/elasticsearch-server.js'
import { type BenchCase, type RunResult, type Summary, type TargetCheck, hotPhase, type PhaseTime } from '../measure.js'

const TARGET = 0.8
const FLUSH_BYTES = 1024 * 1024
const IN_FLIGHT = 2
const PAYLOAD = 'x'.repeat(64)
const ENGINE = 'engine: sequence → elasticsearchSink'
const BASELINE = 'client.helpers.bulk alone'
let server: ElasticsearchServer | undefined
let runs = 0

async function node(): Promise<ElasticsearchServer> {
  server ??= await startElasticsearchServer()
  return server
}

function checked(es: ElasticsearchServer, index: string, n: number, time: PhaseTime): RunResult {
  const stored = es.documents(index).size
  if (stored !== n) throw new Error(`${index}: ${stored} of ${n} documents stored`)
  return { records: n, output: stored, checksum: (n * (n + 1)) / 2, ...time }
}

async function engineSink(es: ElasticsearchServer, n: number): Promise<RunResult> {
  const index = `bench-${++runs}`
  const env = StreamEnvironment.create({ parallelism: 1, logLevel: 'silent' })
  env.fromSequence(1, n, { uid: 'numbers' }).sinkTo(
    elasticsearchSink<number>({
      nodes: es.url,
      emitter: (v) => ({ type: 'index', index, id: String(v), document: { v, payload: PAYLOAD } }),
      maxActions: 1_000_000,
      maxBytes: FLUSH_BYTES,
      maxInFlightRequests: IN_FLIGHT,
    }),
    { uid: 'es' },
  )
  const phase = hotPhase()
  await env.execute('bench: elasticsearch sink')
  return checked(es, index, n, phase.end())
}

async function rawBulk(es: ElasticsearchServer, n: number): Promise<RunResult> {
  const index = `bench-${++runs}`
  const client = new Client({ node: es.url, maxRetries: 0 })
  async function* documents() {
    for (let v = 1; v <= n; v++) yield { v, payload: PAYLOAD }
  }
  const phase = hotPhase()
  const stats = await client.helpers.bulk<{ v: number; payload: string }>({
    datasource: documents(),
    onDocument: (doc) => ({ index: { _index: index, _id: String(doc.v) } }),
    flushBytes: FLUSH_BYTES,
    concurrency: IN_FLIGHT,
    retries: 0,
  })
  const time = phase.end()
  await client.close()
  if (stats.failed > 0) throw new Error(`${stats.failed} documents failed`)
  return checked(es, index, n, time)
}

function targets(summaries: ReadonlyMap<string, Summary>): TargetCheck[] {
  const engine = summaries.get(ENGINE)
  const baseline = summaries.get(BASELINE)
  if (engine === undefined || baseline === undefined) return []
  const ratio = engine.rate / baseline.rate
  return [
    {
      label: `elasticsearch sink: engine ≥ ${TARGET} × client.helpers.bulk`,
      pass: ratio >= TARGET,
      actual: `${ratio.toFixed(2)}× (${Math.round(engine.rate).toLocaleString('en')} vs ${Math.round(baseline.rate).toLocaleString('en')} documents/s)`,
    },
  ]
}

export const elasticsearchSinkCase: BenchCase = {
  id: 'elasticsearch-sink',
  title: 'Elasticsearch sink: elasticsearchSink vs client.helpers.bulk (loopback bulk-API node, same flush size)',
  async prepare({ quick }) {
    const n = quick ? 50_000 : 200_000
    const es = await node()
    return {
      reps: quick ? 3 : 5,
      warmup: 1,
      contenders: [
        { name: ENGINE, role: 'engine', run: () => engineSink(es, n) },
        { name: BASELINE, role: 'baseline', run: () => rawBulk(es, n) },
      ],
      notes: [
        `${n.toLocaleString('en')} index actions of ~100-byte documents ({ v, payload: 64 × 'x' }, id v) into a new index per run; flush at ${FLUSH_BYTES / 1024} KiB, ${IN_FLIGHT} requests in flight; the loopback node runs in this process and stores every document.`,
      ],
      targets,
    }
  },
}

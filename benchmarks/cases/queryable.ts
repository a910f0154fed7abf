// Case f — queryable state: point lookups per second against a running job under load. The job keyed-counts
// an endless stream over 10,000 keys (parallelism 2) while 32 concurrent clients ask for random keys through
// the queryable-state server. Baseline: a bare node:http server answering from a Map (the ceiling of
// HTTP on loopback in this process). Target (issue 17): engine ≥ 0.7× the bare server.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Agent, request } from 'node:http'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { keyBy } from '../../lib/operators/key-by.js'
import { StreamOperator } from '../../lib/runtime/stream-operator.js'
import { ValueStateDescriptor } from '../../lib/state/descriptors.js'
import type { ValueState } from '../../lib/state/value-state.js'
import { type BenchCase, type RunResult, ratioTarget, hotPhase } from '../measure.js'

const KEYS = 10_000
const CLIENTS = 32

class CountPerKey extends StreamOperator<number, number> {
  private count!: ValueState<number>
  override open(): void {
    this.count = this.keyedState!.getState(
      new ValueStateDescriptor<number>('count', { defaultValue: 0, queryable: 'count' }),
    )
  }
  processRecord(x: number): void {
    const n = this.count.value()! + 1
    this.count.update(n)
    if (n === 1) this.output.collect(x, undefined)
  }
}

/** Sends GETs from CLIENTS loops over keep-alive connections for `ms`; counts answers and their checksum. */
async function hammer(url: (key: number) => string, ms: number): Promise<{ answers: number; checksum: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS })
  const deadline = performance.now() + ms
  let answers = 0
  let checksum = 0
  let seed = 1
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      const body = await get(url(seed % KEYS), agent)
      answers++
      checksum = (checksum + body.length) | 0
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, loop))
  agent.destroy()
  return { answers, checksum }
}

function get(url: string, agent: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () =>
        res.statusCode === 200 ? resolve(text) : reject(new Error(`HTTP ${res.statusCode}: ${text}`)),
      )
    })
      .on('error', reject)
      .end()
  })
}

async function engine(ms: number): Promise<RunResult> {
  const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent', queryableState: { port: 0 } })
  let processed = 0
  env
    .fromIterable(function* () {
      for (let i = 0; ; i++) yield i % KEYS
    })
    .pipe(keyBy((x: number) => x))
    .transform('count', () => new CountPerKey(), { uid: 'count' })
    .sinkTo({
      name: 'none',
      guarantee: 'at-least-once',
      createWriter: () => ({ write: () => void processed++, close() {} }),
    })
  const job = env.executeAsync('bench: queryable state')
  await job.running
  while (processed < KEYS) await new Promise((r) => setTimeout(r, 5))
  const warm = performance.now() + 200
  while (performance.now() < warm) await new Promise((r) => setTimeout(r, 10))
  const base = `${job.queryableStateUrl}/jobs/${job.id}/states/count?key=`
  const before = job.metrics().operators.find((o) => o.operator === 'count')?.recordsIn ?? 0
  const phase = hotPhase()
  const { answers, checksum } = await hammer((key) => base + key, ms)
  const time = phase.end()
  const after = job.metrics().operators.find((o) => o.operator === 'count')?.recordsIn ?? 0
  await job.cancel()
  return {
    records: answers,
    output: answers,
    checksum,
    ...time,
    extra: { 'records/s processed meanwhile': Math.round(((after - before) * 1000) / time.ms) },
  }
}

async function bareHttp(ms: number): Promise<RunResult> {
  const counts = new Map<number, number>(Array.from({ length: KEYS }, (_, k) => [k, k]))
  const server = createServer((req, res) => {
    const key = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('key'))
    const body = JSON.stringify({ key, value: counts.get(key) })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  const phase = hotPhase()
  const { answers, checksum } = await hammer((key) => `http://127.0.0.1:${port}/?key=${key}`, ms)
  const time = phase.end()
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
  return { records: answers, output: answers, checksum, ...time }
}

const ENGINE = 'engine: queryable-state server, job under load'
const BARE = 'bare node:http server answering from a Map'

export const queryableCase: BenchCase = {
  id: 'queryable',
  title: `f) queryable state: point lookups/s from ${CLIENTS} concurrent clients against a running keyed job (10,000 keys, parallelism 2)`,
  prepare({ quick }) {
    const ms = quick ? 1_000 : 3_000
    return {
      reps: quick ? 1 : 3,
      warmup: 1,
      unit: 'messages',
      compareChecksums: false,
      contenders: [
        { name: ENGINE, role: 'engine', run: () => engine(ms) },
        { name: BARE, role: 'baseline', run: () => bareHttp(ms) },
      ],
      notes: [
        '"messages" here are answered lookups. The job keeps counting while it answers; its rate meanwhile is shown.',
      ],
      targets: (s) => [ratioTarget(s, 'f) queryable state: engine ≥ 0.7× bare node:http server', ENGINE, BARE, 0.7)],
    }
  },
}

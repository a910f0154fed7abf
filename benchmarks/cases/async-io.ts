// Case g — async I/O: 1 … n through asyncMap into a counting sink, against a pretend service that answers
// after 10 ms (setTimeout), with capacity 100, ordered and unordered, parallelism 1. With 100 requests of
// 10 ms always in flight the ideal is 100 / 10 ms = 10,000 results/s. The baseline is the same service
// driven by 100 plain async workers (no engine): what Node's timers allow.
// n is the case's own (20,000; 5,000 with --quick): at the ideal rate --records would take hours.
// Target: every engine contender ≥ 90 % of the ideal 10,000 results/s.
import { CountingSink } from '../counting-sink.js'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { asyncMap, asyncMetrics } from '../../lib/operators/async-map.js'
import { type BenchCase, type RunResult, type Summary, type TargetCheck, formatRate } from '../measure.js'

const LATENCY_MS = 10
const CAPACITY = 100
const IDEAL = (CAPACITY * 1000) / LATENCY_MS
const TARGET = 0.9

const service = (x: number): Promise<number> => new Promise((resolve) => setTimeout(resolve, LATENCY_MS, x))

async function engine(n: number, ordered: boolean): Promise<RunResult> {
  const sink = new CountingSink((v: number) => v)
  const name = `bench-async-${ordered ? 'ordered' : 'unordered'}`
  const env = StreamEnvironment.create({ parallelism: 1 })
  env
    .fromSequence(1, n)
    .pipe(asyncMap(service, { capacity: CAPACITY, ordered, name }))
    .sinkTo(sink)
  await env.execute(`bench: async I/O (${ordered ? 'ordered' : 'unordered'})`)
  const m = asyncMetrics(name)[0]!
  const latency = m.latency.percentiles()
  return {
    records: n,
    output: sink.output,
    checksum: sink.checksum,
    extra: {
      'max in flight': m.maxInFlight,
      'max held': m.maxHeld,
      'p50 latency (ms)': latency.p50,
      'p99 latency (ms)': latency.p99,
    },
  }
}

/** 100 workers, each awaiting the service for the next number: the most Node's timers give. */
async function workers(n: number): Promise<RunResult> {
  let next = 1
  let output = 0
  let checksum = 0
  const worker = async (): Promise<void> => {
    while (next <= n) {
      const v = await service(next++)
      output++
      checksum += v
    }
  }
  await Promise.all(Array.from({ length: CAPACITY }, worker))
  return { records: n, output, checksum }
}

function target(s: Summary): TargetCheck {
  const share = s.rate / IDEAL
  return {
    label: `g) ${s.name}: ≥ ${TARGET * 100} % of the ideal ${formatRate(IDEAL)} results/s`,
    pass: share >= TARGET,
    actual: `${formatRate(s.rate)} results/s = ${(share * 100).toFixed(1)} %`,
  }
}

export const asyncIoCase: BenchCase = {
  id: 'async-io',
  title: `g) async I/O: asyncMap over a ${LATENCY_MS} ms service, capacity ${CAPACITY} (ideal ${formatRate(IDEAL)} results/s)`,
  prepare({ quick }) {
    const n = quick ? 5_000 : 20_000
    return {
      reps: 3,
      warmup: 1,
      contenders: [
        { name: 'engine, ordered', role: 'engine', run: () => engine(n, true) },
        { name: 'engine, unordered', role: 'engine', run: () => engine(n, false) },
        { name: `${CAPACITY} async workers, no engine`, role: 'baseline', run: () => workers(n) },
      ],
      notes: [
        `${n.toLocaleString('en-US')} records per run whatever --records says: at ${formatRate(IDEAL)}/s more would only take longer.`,
        'max held: records the operator held at once (in flight, queued, or waiting for their turn).',
      ],
      targets(s) {
        return [...s.values()].filter((x) => x.role === 'engine').map(target)
      },
    }
  },
}

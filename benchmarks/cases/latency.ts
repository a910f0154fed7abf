// Case l — end-to-end latency: a source paced at 100,000 records/s in all (two readers of 50,000/s) →
// keyBy(i % 1000) → process(ValueState count) → sink, parallelism 2. Each record's send time is taken at
// the source (performance.now(), same process) and its latency read when the sink gets it; p50 and p99
// over the run. The buffer timeout (bufferTimeoutMs) trades latency for throughput, so each setting runs
// twice: paced for latency, and unpaced (the source as fast as it can) for throughput.
// Baseline: the same pacing with no engine — due records counted in a Map on every turn of the event
// loop — the latency Node's event loop alone gives.
// Target (issue 17): p99 ≤ 5 ms with default settings.
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { keyBy } from '../../lib/operators/key-by.js'
import type { Collector, ProcessContext, RuntimeContext } from '../../lib/operators/process-function.js'
import { process as processFn } from '../../lib/operators/process.js'
import type { InputStatus, Source, SourceOutput, SourceReader } from '../../lib/runtime/source.js'
import { ValueStateDescriptor } from '../../lib/state/descriptors.js'
import type { ValueState } from '../../lib/state/value-state.js'
import { type BenchCase, type RunResult, type Summary, formatRate } from '../measure.js'

const RATE = 100_000
const PARALLELISM = 2
const KEYS = 1000
const TIMEOUTS: readonly (number | undefined)[] = [undefined, 0, 1, 10, 100]
const COUNT = new ValueStateDescriptor<number>('count', { defaultValue: 0 })

/** Records i ≡ subtask (mod parallelism), `perSecond` of them a second, or as fast as asked when undefined. */
class PacedReader implements SourceReader<number, never> {
  private next: number
  private readonly started = performance.now()

  constructor(
    private readonly n: number,
    private readonly subtask: number,
    private readonly perSecond: number | undefined,
    private readonly sentAt: Float64Array,
    private readonly dueAt: Float64Array,
  ) {
    this.next = subtask
  }

  start(): void {}

  pollNext(output: SourceOutput<number>): InputStatus {
    if (this.next >= this.n) return 'end'
    const now = performance.now()
    if (this.perSecond !== undefined) {
      const k = (this.next - this.subtask) / PARALLELISM
      const dueAt = this.started + (k * 1000) / this.perSecond
      if (dueAt > now) return 'nothing-available'
      this.dueAt[this.next] = dueAt
    }
    this.sentAt[this.next] = now
    output.collect(this.next)
    this.next += PARALLELISM
    return this.next < this.n ? 'more' : 'end'
  }

  isAvailable(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve))
  }

  snapshotState(): never[] {
    return []
  }

  close(): void {}
}

function pacedSource(n: number, paced: boolean, sentAt: Float64Array, dueAt: Float64Array): Source<number, never> {
  return {
    name: 'paced',
    bounded: true,
    createReader: (ctx) => new PacedReader(n, ctx.subtask, paced ? RATE / PARALLELISM : undefined, sentAt, dueAt),
  }
}

function percentiles(latencies: Float64Array): { p50: number; p99: number } {
  const sorted = Float64Array.from(latencies).sort()
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  return { p50: at(0.5), p99: at(0.99) }
}

async function engine(n: number, paced: boolean, bufferTimeoutMs: number | undefined): Promise<RunResult> {
  const sentAt = new Float64Array(n)
  const dueAt = new Float64Array(n)
  const latencies = new Float64Array(n)
  const sinceDue = new Float64Array(n)
  let output = 0
  let checksum = 0
  const env = StreamEnvironment.create({
    parallelism: PARALLELISM,
    logLevel: 'silent',
    ...(bufferTimeoutMs === undefined ? {} : { bufferTimeoutMs }),
  })
  env
    .fromSource(pacedSource(n, paced, sentAt, dueAt))
    .pipe(
      keyBy((i: number) => i % KEYS),
      processFn<number, number>({
        open(this: { count?: ValueState<number> }, runtime: RuntimeContext) {
          this.count = runtime.getState(COUNT)
        },
        processElement(this: { count?: ValueState<number> }, i: number, _ctx: ProcessContext, out: Collector<number>) {
          this.count!.update(this.count!.value()! + 1)
          out.collect(i)
        },
      }),
    )
    .sinkTo(
      new CallbackSink<number>((i) => {
        const now = performance.now()
        sinceDue[output] = now - dueAt[i]!
        latencies[output++] = now - sentAt[i]!
        checksum += i
      }),
    )
  await env.execute('bench: latency')
  const { p50, p99 } = percentiles(latencies.subarray(0, output))
  const due = paced ? percentiles(sinceDue.subarray(0, output)) : undefined
  return {
    records: n,
    output,
    checksum,
    extra: {
      'p50 latency (ms)': round(p50),
      'p99 latency (ms)': round(p99),
      ...(due === undefined ? {} : { 'p99 since due (ms)': round(due.p99) }),
    },
  }
}

/**
 * The pacing alone: every turn of the event loop counts the records due by now in a Map. Handed out and
 * counted at once, so its latency from the source is 0; its delay since each record was due is what the
 * event loop costs, the floor of the engine's 'since due' column.
 */
function pacedLoop(n: number): Promise<RunResult> {
  const counts = new Map<number, number>()
  const latencies = new Float64Array(n)
  const started = performance.now()
  let next = 0
  let checksum = 0
  return new Promise((resolve) => {
    const turn = (): void => {
      const due = Math.min(n, Math.floor(((performance.now() - started) * RATE) / 1000))
      for (; next < due; next++) {
        const key = next % KEYS
        counts.set(key, (counts.get(key) ?? 0) + 1)
        checksum += next
        latencies[next] = performance.now() - (started + (next * 1000) / RATE)
      }
      if (next < n) setImmediate(turn)
      else {
        resolve({ records: n, output: n, checksum, extra: { 'p99 since due (ms)': round(percentiles(latencies).p99) } })
      }
    }
    setImmediate(turn)
  })
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100
}

function label(timeout: number | undefined): string {
  return timeout === undefined ? 'default bufferTimeoutMs' : `bufferTimeoutMs ${timeout}`
}

export const latencyCase: BenchCase = {
  id: 'latency',
  title: `l) end-to-end latency: source paced at ${formatRate(RATE)} records/s → keyBy → process → sink, parallelism ${PARALLELISM}`,
  prepare({ quick }) {
    const n = quick ? 50_000 : 200_000
    const contenders = TIMEOUTS.flatMap((t) => [
      {
        name: `engine, ${label(t)}, paced`,
        role: 'engine' as const,
        run: () => engine(n, true, t),
      },
      {
        name: `engine, ${label(t)}, unpaced`,
        role: 'engine' as const,
        run: () => engine(n, false, t),
      },
    ])
    return {
      reps: 3,
      warmup: 1,
      contenders: [...contenders, { name: 'paced loop, no engine', role: 'baseline', run: () => pacedLoop(n) }],
      notes: [
        `${n.toLocaleString('en-US')} records per run (${n / RATE} s paced); the rate of an unpaced run is the setting's throughput.`,
        'latency: from the source reader handing the record out to the sink receiving it, in one process (performance.now()); since due: from the time the pacing made the record due.',
      ],
      targets(s: ReadonlyMap<string, Summary>) {
        const d = s.get(`engine, ${label(undefined)}, paced`)!
        const p99 = d.extra['p99 latency (ms)'] as number
        return [{ label: 'l) p99 latency ≤ 5 ms with default settings', pass: p99 <= 5, actual: `p99 ${p99} ms` }]
      },
    }
  },
}

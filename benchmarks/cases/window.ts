// Case c — tumbling event-time window sum per key: assignTimestampsAndWatermarks(monotonous timestamps),
// keyBy(x % 1000), window(tumblingEventTimeWindows(1000)), reduce(sum), parallelism 1. Record x has
// event time floor(x / 10): 10 records per ms, 10,000 per 1 s window, 10 per key and window.
// Target (issue 17): engine ≥ 0.3× RxJS + Map of window buckets. Runs only once lib/operators/window.ts and lib/windows exist: the window API is imported
// dynamically (its files are being written while this harness is), so a missing piece skips the case.
import { existsSync, readdirSync } from 'node:fs'
import type { DataStream } from '../../lib/api/data-stream.js'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { keyBy } from '../../lib/operators/key-by.js'
import { WINDOW_CHECKSUM_MODULUS, type WindowSpec } from '../baselines/for-loop.js'
import * as forLoop from '../baselines/for-loop.js'
import * as rx from '../baselines/rxjs.js'
import { type BenchCase, type RunResult, integers, ratioTarget } from '../measure.js'

const RX = 'RxJS 7 + Map of window buckets'
const SPEC: WindowSpec = { sizeMs: 1000, keys: 1000, timestampOf: (x) => Math.floor(x / 10) }

type Operator = (...args: any[]) => any

/** The window API as found in lib/ at run time. */
interface WindowApi {
  window: Operator
  tumblingEventTimeWindows: Operator
  reduce: Operator
  assignTimestampsAndWatermarks: Operator
  WatermarkStrategy: { forMonotonousTimestamps<T>(): { withTimestampAssigner(f: (v: T) => number): unknown } }
}

const LIB = new URL('../../lib/', import.meta.url)

/** Modules that may export the window API, in the order they are searched. */
function candidateModules(): URL[] {
  const urls = [
    'operators/window.js',
    'windows/index.js',
    'windows/window.js',
    'windows/time-window.js',
    'operators/reduce.js',
    'operators/assign-timestamps.js',
    'time/watermark-strategy.js',
    'index.js',
  ].map((p) => new URL(p, LIB))
  const assigners = new URL('windows/assigners/', LIB)
  if (existsSync(assigners)) {
    for (const f of readdirSync(assigners))
      if (f.endsWith('.ts')) urls.push(new URL(f.replace(/\.ts$/, '.js'), assigners))
  }
  return urls
}

async function loadWindowApi(): Promise<WindowApi | string> {
  if (!existsSync(new URL('operators/window.ts', LIB))) return 'lib/operators/window.ts does not exist yet'
  if (!existsSync(new URL('windows', LIB))) return 'lib/windows does not exist yet'
  const found: Record<string, unknown> = {}
  const wanted = ['window', 'tumblingEventTimeWindows', 'reduce', 'assignTimestampsAndWatermarks', 'WatermarkStrategy']
  const failures: string[] = []
  for (const url of candidateModules()) {
    if (!existsSync(new URL(url.href.replace(/\.js$/, '.ts')))) continue
    try {
      const mod = (await import(url.href)) as Record<string, unknown>
      for (const name of wanted) if (found[name] === undefined && mod[name] !== undefined) found[name] = mod[name]
    } catch (error) {
      failures.push(`${url.pathname.slice(LIB.pathname.length)}: ${(error as Error).message.split('\n')[0]}`)
    }
    if (wanted.every((n) => found[n] !== undefined)) break
  }
  const missing = wanted.filter((n) => found[n] === undefined)
  if (missing.length > 0)
    return `window API incomplete: ${missing.join(', ')} not exported${failures.length > 0 ? ` (import errors: ${failures.join('; ')})` : ''}`
  return found as unknown as WindowApi
}

async function engine(data: readonly number[], api: WindowApi): Promise<RunResult> {
  let output = 0
  let checksum = 0
  const env = StreamEnvironment.create({ parallelism: 1 })
  const strategy = api.WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner(SPEC.timestampOf)
  const windowed = env.fromCollection(data).pipe(
    api.assignTimestampsAndWatermarks(strategy),
    keyBy((x: number) => x % SPEC.keys),
    api.window(api.tumblingEventTimeWindows(SPEC.sizeMs)),
    api.reduce((a: number, b: number) => a + b),
  ) as DataStream<number>
  windowed.sinkTo(
    new CallbackSink<number>((s) => {
      output++
      checksum += s % WINDOW_CHECKSUM_MODULUS
    }),
  )
  await env.execute('bench: tumbling window sum')
  return { records: data.length, output, checksum }
}

let api: WindowApi | string | undefined

export const windowCase: BenchCase = {
  id: 'window',
  title:
    'c) tumbling event-time window sum per key: assignTimestampsAndWatermarks → keyBy(x%1000) → window(tumbling 1 s) → reduce(sum)',
  async unavailable() {
    api ??= await loadWindowApi()
    return typeof api === 'string' ? api : undefined
  },
  async prepare({ records }) {
    api ??= await loadWindowApi()
    if (typeof api === 'string') throw new Error(api)
    const loaded = api
    const data = integers(records)
    return {
      contenders: [
        { name: 'engine', role: 'engine', run: () => engine(data, loaded) },
        { name: 'for loop + Map of window buckets', role: 'baseline', run: () => forLoop.windowSum(data, SPEC) },
        { name: RX, role: 'baseline', run: () => rx.windowSum(data, SPEC) },
      ],
      notes: [
        `event time of x = floor(x / 10) ms; ${SPEC.keys} keys; windows of ${SPEC.sizeMs} ms; the baselines flush a bucket once a record's timestamp reaches its end.`,
      ],
      targets: (s) => [
        ratioTarget(s, 'c) tumbling windows: engine ≥ 0.3× RxJS + Map of window buckets', 'engine', RX, 0.3),
      ],
    }
  },
}

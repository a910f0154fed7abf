// Cases c2 and c3 — sliding and session event-time windows of a sum per key, against hand-written window
// buckets (benchmarks/baselines/window-buckets.ts) in a for loop and in a plain RxJS operator:
//   c2) assignTimestampsAndWatermarks → keyBy(x % 1000) → window(sliding 10 s, slide 1 s) → reduce(sum)
//   c3) assignTimestampsAndWatermarks → keyBy(x % 1000) → window(session gap 1 s) → reduce(sum)
// Parallelism 1. Record x has event time floor(x / 10) ms (10 records per ms, each key every 100 ms);
// for sessions every 100,000 records (10 s of event time) time jumps by 2 s, so every key's session
// closes: sessions of 100 records that merge on every record.
// Targets (issue 17): engine ≥ 0.2× the RxJS operator over the same buckets.
import type { DataStream } from '../../lib/api/data-stream.js'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { assignTimestampsAndWatermarks } from '../../lib/operators/assign-timestamps.js'
import { keyBy } from '../../lib/operators/key-by.js'
import { reduce } from '../../lib/operators/reduce.js'
import { window } from '../../lib/operators/window.js'
import { WatermarkStrategy } from '../../lib/time/watermark-strategy.js'
import { eventTimeSessionWindows } from '../../lib/windows/assigners/session.js'
import { slidingEventTimeWindows } from '../../lib/windows/assigners/sliding.js'
import type { TimeWindow } from '../../lib/windows/time-window.js'
import type { WindowAssigner } from '../../lib/windows/window-assigner.js'
import { WINDOW_CHECKSUM_MODULUS } from '../baselines/for-loop.js'
import * as forLoop from '../baselines/for-loop.js'
import * as rx from '../baselines/rxjs.js'
import { type EmitSum, SessionBuckets, SlidingBuckets } from '../baselines/window-buckets.js'
import { type BenchCase, type RunResult, formatRate, integers } from '../measure.js'

const KEYS = 1000
const SLIDING = { keys: KEYS, sizeMs: 10_000, slideMs: 1_000, timestampOf: (x: number) => Math.floor(x / 10) }
const SESSION = {
  keys: KEYS,
  gapMs: 1_000,
  timestampOf: (x: number) => Math.floor(x / 10) + 2_000 * Math.floor(x / 100_000),
}

async function engine(
  data: readonly number[],
  timestampOf: (x: number) => number,
  assigner: WindowAssigner<unknown, TimeWindow>,
): Promise<RunResult> {
  let output = 0
  let checksum = 0
  const env = StreamEnvironment.create({ parallelism: 1 })
  const strategy = WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner(timestampOf)
  const sums = env.fromCollection(data).pipe(
    assignTimestampsAndWatermarks(strategy),
    keyBy((x: number) => x % KEYS),
    window(assigner),
    reduce((a: number, b: number) => a + b),
  ) as DataStream<number>
  sums.sinkTo(
    new CallbackSink<number>((s) => {
      output++
      checksum += s % WINDOW_CHECKSUM_MODULUS
    }),
  )
  await env.execute('bench: window sum')
  return { records: data.length, output, checksum }
}

function windowKindCase(
  id: string,
  title: string,
  assigner: WindowAssigner<unknown, TimeWindow>,
  timestampOf: (x: number) => number,
  buckets: (emit: EmitSum) => { next(x: number): void; complete(): void },
  label: string,
): BenchCase {
  return {
    id,
    title,
    prepare({ records }) {
      const data = integers(records)
      return {
        contenders: [
          { name: 'engine', role: 'engine', run: () => engine(data, timestampOf, assigner) },
          { name: 'for loop + window buckets', role: 'baseline', run: () => forLoop.bucketSum(data, buckets) },
          { name: 'RxJS 7 + window buckets', role: 'baseline', run: () => rx.bucketSum(data, buckets) },
        ],
        notes: [
          `${KEYS} keys; the baselines are benchmarks/baselines/window-buckets.ts, emitting a window once a record's timestamp passes its end.`,
        ],
        targets(s) {
          const e = s.get('engine')!
          const r = s.get('RxJS 7 + window buckets')!
          const ratio = e.rate / r.rate
          return [
            {
              label: `${label}: engine ≥ 0.2× RxJS + window buckets`,
              pass: ratio >= 0.2,
              actual: `${ratio.toFixed(2)}× (${formatRate(e.rate)} vs ${formatRate(r.rate)} records/s)`,
            },
          ]
        },
      }
    },
  }
}

export const slidingWindowCase = windowKindCase(
  'window-sliding',
  'c2) sliding event-time window sum per key: assignTimestampsAndWatermarks → keyBy(x%1000) → window(sliding 10 s / 1 s) → reduce(sum)',
  slidingEventTimeWindows(SLIDING.sizeMs, SLIDING.slideMs),
  SLIDING.timestampOf,
  (emit) => new SlidingBuckets(SLIDING, emit),
  'c2) sliding windows',
)

export const sessionWindowCase = windowKindCase(
  'window-session',
  'c3) session window sum per key: assignTimestampsAndWatermarks → keyBy(x%1000) → window(session gap 1 s) → reduce(sum)',
  eventTimeSessionWindows(SESSION.gapMs),
  SESSION.timestampOf,
  (emit) => new SessionBuckets(SESSION, emit),
  'c3) session windows',
)

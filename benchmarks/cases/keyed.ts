// Case b — keyed count over 1,000 keys: map(x => x + 1), filter(x => x % 3 !== 0), keyBy(x => x % 1000),
// then a process function counting per key in ValueState and emitting the key's new count, parallelism 1.
// keyBy is a shuffle, so the job has two subtasks and records cross a credit-based channel in batches.
// (map is x + 1, not x * 2, so that x % 1000 reaches all 1,000 keys.)
// Targets (issue): engine ≥ 0.5× plain RxJS pipe AND ≥ 4,000,000 records/s.
import type { DataStream } from '../../lib/api/data-stream.js'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { filter } from '../../lib/operators/filter.js'
import { keyBy } from '../../lib/operators/key-by.js'
import { map } from '../../lib/operators/map.js'
import type { Collector, ProcessContext, RuntimeContext } from '../../lib/operators/process-function.js'
import { StreamOperator } from '../../lib/runtime/stream-operator.js'
import { ValueStateDescriptor } from '../../lib/state/descriptors.js'
import type { ValueState } from '../../lib/state/value-state.js'
import * as forLoop from '../baselines/for-loop.js'
import * as most from '../baselines/most.js'
import * as nodeStreams from '../baselines/node-streams.js'
import * as rx from '../baselines/rxjs.js'
import { type BenchCase, type RunResult, chunks, formatRate, integers } from '../measure.js'

const COUNT = new ValueStateDescriptor<number>('count', { defaultValue: 0 })

/** The keyed step: `process` with a ValueState counter, or (see below) the same as a bare operator. */
type KeyedCounter = (keyed: DataStream<number>) => DataStream<number>

function keyedInput(env: StreamEnvironment, data: readonly number[]): DataStream<number> {
  return env.fromCollection(data).pipe(
    map((x: number) => x + 1),
    filter((x: number) => x % 3 !== 0),
    keyBy((x: number) => x % 1000),
  )
}

/** lib/operators/process.ts, if it loads (it imports the windowed stream, which may be mid-change). */
async function processCounter(): Promise<KeyedCounter | string> {
  try {
    const { process } = await import('../../lib/operators/process.js')
    return (stream) =>
      stream.pipe(
        process<number, number>({
          open(this: { count?: ValueState<number> }, runtime: RuntimeContext) {
            this.count = runtime.getState(COUNT)
          },
          processElement(
            this: { count?: ValueState<number> },
            _x: number,
            _ctx: ProcessContext,
            out: Collector<number>,
          ) {
            const n = this.count!.value()! + 1
            this.count!.update(n)
            out.collect(n)
          },
        }),
      )
  } catch (error) {
    return `lib/operators/process.ts did not load (${(error as Error).message.split('\n')[0]})`
  }
}

/** The same counter written as a StreamOperator: the fallback when process.ts cannot be imported. */
class CountPerKey extends StreamOperator<number, number> {
  private count!: ValueState<number>

  override open(): void {
    this.count = this.keyedState!.getState(COUNT)
  }

  processRecord(_x: number, timestamp: number | undefined): void {
    const n = this.count.value()! + 1
    this.count.update(n)
    this.output.collect(n, timestamp)
  }
}

const operatorCounter: KeyedCounter = (stream) => stream.transform('count-per-key', () => new CountPerKey())

async function engine(data: readonly number[], counter: KeyedCounter): Promise<RunResult> {
  let output = 0
  let checksum = 0
  const env = StreamEnvironment.create({ parallelism: 1 })
  counter(keyedInput(env, data)).sinkTo(
    new CallbackSink<number>((n) => {
      output++
      checksum += n
    }),
  )
  await env.execute('bench: keyed count')
  return { records: data.length, output, checksum }
}

export const keyedCase: BenchCase = {
  id: 'keyed',
  title: 'b) keyed count over 1,000 keys: map(x+1) → filter → keyBy(x%1000) → process(ValueState count) → sink',
  async prepare({ records }) {
    const data = integers(records)
    const chunked = chunks(data, nodeStreams.CHUNK)
    const viaProcess = await processCounter()
    const notes: string[] = []
    let counter: KeyedCounter
    let engineName: string
    if (typeof viaProcess === 'string') {
      notes.push(
        `${viaProcess}: the engine ran the same counter as a StreamOperator via stream.transform (same state and shuffle).`,
      )
      counter = operatorCounter
      engineName = 'engine (StreamOperator + ValueState)'
    } else {
      counter = viaProcess
      engineName = 'engine'
    }
    return {
      contenders: [
        { name: engineName, role: 'engine', run: () => engine(data, counter) },
        { name: 'for loop + Map', role: 'baseline', run: () => forLoop.keyedCount(data) },
        { name: 'RxJS 7 pipe + Map', role: 'baseline', run: () => rx.keyedCount(data) },
        { name: '@most/core + Map', role: 'baseline', run: () => most.keyedCount(data) },
        { name: 'Node pipeline (1 record/chunk) + Map', role: 'baseline', run: () => nodeStreams.keyedCount(data) },
        {
          name: `Node pipeline (${nodeStreams.CHUNK} records/chunk) + Map`,
          role: 'baseline',
          run: () => nodeStreams.keyedCountChunked(chunked, data.length),
        },
      ],
      notes,
      targets(s) {
        const e = s.get(engineName)!
        const r = s.get('RxJS 7 pipe + Map')!
        const ratio = e.rate / r.rate
        return [
          {
            label: 'b) engine ≥ 0.5× RxJS pipe',
            pass: ratio >= 0.5,
            actual: `${ratio.toFixed(2)}× (${formatRate(e.rate)} vs ${formatRate(r.rate)} records/s)`,
          },
          {
            label: 'b) engine ≥ 4,000,000 records/s',
            pass: e.rate >= 4_000_000,
            actual: `${formatRate(e.rate)} records/s`,
          },
        ]
      },
    }
  },
}

// Case a — stateless chain: map(x => x * 2), filter(x => x % 3 !== 0) into a counting sink, parallelism 1.
// The engine chains all three into one subtask, so this measures the per-record cost of the chain.
// Targets: engine ≥ 1.0× plain RxJS pipe; engine ≥ 0.7× @most/core (issue 17).
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { filter } from '../../lib/operators/filter.js'
import { map } from '../../lib/operators/map.js'
import * as forLoop from '../baselines/for-loop.js'
import * as most from '../baselines/most.js'
import * as nodeStreams from '../baselines/node-streams.js'
import * as rx from '../baselines/rxjs.js'
import { type BenchCase, type RunResult, chunks, integers, ratioTarget } from '../measure.js'

async function engine(data: readonly number[]): Promise<RunResult> {
  let output = 0
  let checksum = 0
  const env = StreamEnvironment.create({ parallelism: 1 })
  env
    .fromCollection(data)
    .pipe(
      map((x: number) => x * 2),
      filter((x: number) => x % 3 !== 0),
    )
    .sinkTo(
      new CallbackSink<number>((v) => {
        output++
        checksum += v
      }),
    )
  await env.execute('bench: stateless chain')
  return { records: data.length, output, checksum }
}

export const statelessCase: BenchCase = {
  id: 'stateless',
  title: 'a) stateless chain: map(x*2) → filter(x%3≠0) → counting sink',
  prepare({ records }) {
    const data = integers(records)
    const chunked = chunks(data, nodeStreams.CHUNK)
    return {
      contenders: [
        { name: 'engine', role: 'engine', run: () => engine(data) },
        { name: 'for loop', role: 'baseline', run: () => forLoop.statelessChain(data) },
        { name: 'RxJS 7 pipe', role: 'baseline', run: () => rx.statelessChain(data) },
        { name: '@most/core', role: 'baseline', run: () => most.statelessChain(data) },
        { name: 'Node pipeline (1 record/chunk)', role: 'baseline', run: () => nodeStreams.statelessChain(data) },
        {
          name: `Node pipeline (${nodeStreams.CHUNK} records/chunk)`,
          role: 'baseline',
          run: () => nodeStreams.statelessChainChunked(chunked, data.length),
        },
      ],
      targets: (s) => [
        ratioTarget(s, 'a) engine ≥ 1.0× RxJS pipe', 'engine', 'RxJS 7 pipe', 1.0),
        ratioTarget(s, 'a) engine ≥ 0.7× @most/core (issue 17)', 'engine', '@most/core', 0.7),
      ],
    }
  },
}

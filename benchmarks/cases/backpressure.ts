// Case d — fast source into slow sink: 1 … n from a generating source (nothing preallocated), map(x+1),
// into a sink whose writer's ready() returns a promise resolved by setImmediate every 1,000 records.
// Resident memory is sampled every 50 ms (after a collection at the start) and job.metrics() is read at
// the same moments. Run chained (one subtask: the sink's ready() stops the source directly) and with
// chaining off (source, map and sink are separate subtasks joined by credit-based channels).
// Targets (issue): max RSS growth < 50 MB, and every subtask's maxQueuedRecords ≤ inputCapacity.
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { map } from '../../lib/operators/map.js'
import type { JobMetricsSnapshot } from '../../lib/runtime/job-metrics.js'
import type { Sink, SinkWriter } from '../../lib/runtime/sink.js'
import * as nodeStreams from '../baselines/node-streams.js'
import { type BenchCase, RssSampler, type RunResult, type Summary, type TargetCheck, formatInt } from '../measure.js'

/** Records between two waits of the slow sink. */
const SLOW_EVERY = 1000
const RSS_LIMIT_MB = 50

// Column names of the extra measurements in RESULTS.md.
const RSS = 'max RSS growth (MB)'
const QUEUED = 'max maxQueuedRecords'
const CAPACITY = 'inputCapacity'
const WITHIN = 'queued ≤ capacity'
const SUBTASKS = 'subtasks'

/** Counts and sums; asks the runtime to wait one turn of the event loop every {@link SLOW_EVERY} records. */
class SlowSink implements Sink<number> {
  readonly name = 'slow'
  readonly guarantee = 'at-least-once'
  output = 0
  checksum = 0

  createWriter(): SinkWriter<number> {
    let sinceWait = 0
    return {
      write: (v) => {
        this.output++
        this.checksum += v
        sinceWait++
      },
      ready: () => {
        if (sinceWait < SLOW_EVERY) return undefined
        sinceWait = 0
        return new Promise<void>((resolve) => setImmediate(resolve))
      },
      close() {},
    }
  }
}

/** The worst flow-control figures seen over all snapshots of a run. */
class InFlightWatch {
  maxQueued = 0
  capacity = 0
  maxBuffered = 0
  overCapacity = false
  snapshots = 0

  observe(m: JobMetricsSnapshot): void {
    this.snapshots++
    for (const s of m.subtasks) {
      if (s.maxQueuedRecords > this.maxQueued) this.maxQueued = s.maxQueuedRecords
      if (s.inputCapacity > this.capacity) this.capacity = s.inputCapacity
      if (s.bufferedRecords > this.maxBuffered) this.maxBuffered = s.bufferedRecords
      if (s.maxQueuedRecords > s.inputCapacity) this.overCapacity = true
    }
  }
}

async function engine(n: number, chaining: boolean): Promise<RunResult> {
  const sink = new SlowSink()
  const env = StreamEnvironment.create({ parallelism: 1, chaining })
  env
    .fromSequence(1, n)
    .pipe(map((x: number) => x + 1))
    .sinkTo(sink)
  const watch = new InFlightWatch()
  const sampler = new RssSampler(50)
  const job = env.executeAsync(`bench: backpressure (chaining ${chaining ? 'on' : 'off'})`)
  sampler.alsoEvery(() => watch.observe(job.metrics()))
  const result = await job.result
  const rss = sampler.stop()
  watch.observe(result.metrics)
  return {
    records: n,
    output: sink.output,
    checksum: sink.checksum,
    extra: {
      [RSS]: rss.maxGrowthMB,
      [QUEUED]: watch.maxQueued,
      [CAPACITY]: watch.capacity,
      'max bufferedRecords': watch.maxBuffered,
      [WITHIN]: !watch.overCapacity,
      [SUBTASKS]: result.metrics.subtasks.length,
      'max backpressuredMs': Math.max(...result.metrics.subtasks.map((s) => s.backpressuredMs)),
      'metrics snapshots': watch.snapshots,
    },
  }
}

function engineTargets(s: Summary): TargetCheck[] {
  const growth = s.extra[RSS] as number
  const within = s.extra[WITHIN] as boolean
  return [
    {
      label: `d) ${s.name}: max RSS growth < ${RSS_LIMIT_MB} MB`,
      pass: growth < RSS_LIMIT_MB,
      actual: `${growth.toFixed(1)} MB (worst of ${s.samples.length} runs)`,
    },
    {
      label: `d) ${s.name}: every subtask's maxQueuedRecords ≤ inputCapacity`,
      pass: within,
      actual: `max queued ${formatInt(s.extra[QUEUED] as number)} / capacity ${formatInt(s.extra[CAPACITY] as number)} over ${s.extra[SUBTASKS]} subtask(s)${s.extra[SUBTASKS] === 1 ? ' (all chained: no input channel, the sink stops the source directly)' : ''}`,
    },
  ]
}

export const backpressureCase: BenchCase = {
  id: 'backpressure',
  title: `d) fast source into slow sink (ready() waits a setImmediate every ${SLOW_EVERY} records)`,
  prepare({ records, quick }) {
    return {
      reps: quick ? 2 : 3,
      warmup: 1,
      contenders: [
        { name: 'engine (chained)', role: 'engine', run: () => engine(records, true) },
        { name: 'engine (chaining off)', role: 'engine', run: () => engine(records, false) },
        {
          name: `Node pipeline, slow Writable (highWaterMark ${SLOW_EVERY})`,
          role: 'baseline',
          run: () => nodeStreams.slowSink(records, SLOW_EVERY, SLOW_EVERY),
        },
      ],
      notes: [
        'RSS growth = max resident set size sampled every 50 ms during the run minus the RSS after a collection just before it; worst run shown.',
        'maxQueuedRecords / inputCapacity: the largest over every subtask and every metrics snapshot (read every 50 ms and at the end).',
      ],
      targets(s) {
        return [...s.values()].filter((x) => x.role === 'engine').flatMap(engineTargets)
      },
    }
  },
}

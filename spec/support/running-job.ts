import { interval, map as rxMap } from 'rxjs'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import {
  type JobHandle,
  StreamEnvironment,
  WatermarkStrategy,
  assignTimestampsAndWatermarks,
  keyBy,
  map,
  reduce,
} from '../../lib/index.js'
import { createLogger } from '../../lib/logging.js'
import type { JobServer } from '../../lib/server/job-server.js'

/**
 * A small endless keyed job for the job server's tests: a record per millisecond with event time,
 * keyed sums at parallelism 2, checkpoints every 50 ms in memory. Operators: `ticks`, `stamp`, `double`,
 * `sum`, `sink`.
 *
 * @example
 * const job = tickingJob(server); await job.running
 */
export function tickingJob(server: JobServer, name = 'ticking'): JobHandle {
  const env = StreamEnvironment.create({
    parallelism: 2,
    logger: createLogger({ level: 'silent' }),
    queryableState: server,
    checkpointing: { intervalMs: 50 },
    autoWatermarkIntervalMs: 20,
  })
  env
    .fromObservable(interval(1).pipe(rxMap((n) => n)), { name: 'ticks' })
    .pipe(
      assignTimestampsAndWatermarks(
        WatermarkStrategy.forBoundedOutOfOrderness<number>(10).withTimestampAssigner(() => Date.now()),
      ),
      map((n: number) => n * 2),
      keyBy((n: number) => n % 7),
      reduce((a: number, b: number) => a + b),
    )
    .sinkTo(new CallbackSink(() => {}))
  return env.executeAsync(name)
}

import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'
import { WindowedStream } from '../api/windowed-stream.js'
import { ConfigError } from '../errors.js'
import { globalWindows } from '../windows/assigners/global.js'
import { CountEvictor } from '../windows/evictors/count-evictor.js'
import { CountTrigger } from '../windows/triggers/count-trigger.js'
import { PurgingTrigger } from '../windows/triggers/purging-trigger.js'
import type { WindowAssigner } from '../windows/window-assigner.js'
import type { WindowOptions } from '../windows/window-options.js'
import type { Window } from '../windows/window.js'

/**
 * Cuts a keyed stream into windows (Flink's `keyBy(…).window(…)`); the next stage must be `reduce`,
 * `aggregate` or `process`, which evaluates each window. On a stream without `keyBy` it windows the
 * whole stream in one subtask (Flink's `windowAll`).
 *
 * @example
 * readings$.pipe(
 *   assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Reading>(1_000).withTimestampAssigner((r) => r.time)),
 *   keyBy((r) => r.sensor),
 *   window(tumblingEventTimeWindows(60_000), { allowedLatenessMs: 5_000, lateOutput: lateReadings }),
 *   reduce((a, b) => (a.value >= b.value ? a : b)),
 * )
 */
export function window<T, W extends Window = Window>(
  assigner: WindowAssigner<NoInfer<T>, W>,
  options: WindowOptions<NoInfer<T>, W> = {},
): EngineOperator<T, T> {
  return engineOperator((input) => WindowedStream.of<T, W>(requireStream(input, 'window'), assigner, options))
}

/**
 * Windows of `size` records per key (Flink's countWindow): tumbling, or with `slide`, the last `size`
 * records every `slide` records. Built from global windows, a count trigger and (sliding) a count
 * evictor, so a window that never fills is never emitted, as in Flink.
 *
 * @example
 * orders$.pipe(keyBy((o) => o.customer), countWindow(3), reduce((a, b) => ({ ...a, total: a.total + b.total })))
 */
export function countWindow<T>(size: number, slide?: number): EngineOperator<T, T> {
  if (!Number.isInteger(size) || size < 1)
    throw new ConfigError('countWindow.size', size, 'a whole number of at least 1')
  if (slide !== undefined && (!Number.isInteger(slide) || slide < 1))
    throw new ConfigError('countWindow.slide', slide, 'a whole number of at least 1')
  const options: WindowOptions<T, Window> =
    slide === undefined
      ? { trigger: PurgingTrigger.of(CountTrigger.of(size)) }
      : { trigger: CountTrigger.of(slide), evictor: CountEvictor.of(size) }
  return engineOperator((input) =>
    WindowedStream.of<T, Window>(requireStream(input, 'countWindow'), globalWindows(), options),
  )
}

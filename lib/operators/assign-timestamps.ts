import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'
import { validateOperatorOptions } from '../api/validate-options.js'
import type { OperatorOptions } from '../runtime/transformation.js'
import { ConfigError } from '../errors.js'
import { TimestampsAndWatermarksOperator } from '../time/watermark-operator.js'
import { type WatermarkStrategy, validateWatermarkStrategy } from '../time/watermark-strategy.js'

/** Options of {@link assignTimestampsAndWatermarks}. */
export interface AssignTimestampsOptions extends OperatorOptions {
  /**
   * How often the generator is asked for a watermark, in ms of processing time; default 200. The
   * environment's `autoWatermarkIntervalMs` does not reach operators yet, so it is set here.
   */
  intervalMs?: number
}

/**
 * Sets each record's event timestamp and emits watermarks after it, from a {@link WatermarkStrategy}
 * (Flink's assignTimestampsAndWatermarks). Event-time windows and timers downstream need it. Watermarks
 * from upstream are replaced by this operator's own, except the final one at the end of input.
 *
 * @example
 * clicks.pipe(
 *   assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Click>(1_000).withTimestampAssigner((c) => c.at)),
 *   keyBy((c) => c.page),
 *   window(tumblingEventTimeWindows(60_000)),
 *   aggregate(countClicks),
 * )
 */
export function assignTimestampsAndWatermarks<T>(
  strategy: WatermarkStrategy<T>,
  options: AssignTimestampsOptions = {},
): EngineOperator<T, T> {
  validateWatermarkStrategy('assignTimestampsAndWatermarks', strategy)
  validateOperatorOptions('assignTimestampsAndWatermarks', options ?? {}, ['intervalMs'])
  const { intervalMs, ...operatorOptions } = options ?? {}
  if (intervalMs !== undefined && (!Number.isFinite(intervalMs) || intervalMs <= 0))
    throw new ConfigError('assignTimestampsAndWatermarks.intervalMs', intervalMs, 'a positive number of milliseconds')
  return engineOperator((input) =>
    requireStream(input, 'assignTimestampsAndWatermarks').transform(
      'assignTimestampsAndWatermarks',
      () => new TimestampsAndWatermarksOperator<T>(strategy, intervalMs),
      operatorOptions,
    ),
  )
}

import type { WatermarkGenerator } from '../../lib/time/watermark-generator.js'
import { WatermarkStrategy, type WatermarkStrategyBuilder } from '../../lib/time/watermark-strategy.js'

/**
 * Bounded out-of-orderness, but emitted after every record instead of periodically: embedded tests
 * read their input synchronously, before any periodic tick could run, and need event time to advance
 * between records to exercise lateness.
 *
 * @example
 * from(events).pipe(assignTimestampsAndWatermarks(punctuatedWatermarks((e: Ev) => e.t, 5)), …)
 */
export function punctuatedWatermarks<T>(
  timestampOf: (value: T) => number,
  maxOutOfOrdernessMs = 0,
): WatermarkStrategyBuilder<T> {
  return WatermarkStrategy.forGenerator<T>((): WatermarkGenerator<T> => {
    let newest = -Infinity
    return {
      onEvent(_value, timestamp, output) {
        if (timestamp > newest) newest = timestamp
        output.emitWatermark(newest - maxOutOfOrdernessMs - 1)
      },
      onPeriodicEmit() {},
    }
  }).withTimestampAssigner(timestampOf)
}

import type { WatermarkGenerator, WatermarkOutput } from './watermark-generator.js'

/**
 * Emits no watermarks (Flink's NoWatermarksGenerator): for jobs that need record timestamps but no
 * event-time progress. Event-time windows after it fire only at the end of input.
 *
 * @example
 * assignTimestampsAndWatermarks(WatermarkStrategy.noWatermarks<Order>().withTimestampAssigner((o) => o.at))
 */
export class NoWatermarksGenerator<T> implements WatermarkGenerator<T> {
  onEvent(_value: T, _timestamp: number, _output: WatermarkOutput): void {}
  onPeriodicEmit(_output: WatermarkOutput): void {}
}

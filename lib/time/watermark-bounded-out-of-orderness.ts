import type { WatermarkGenerator, WatermarkOutput } from './watermark-generator.js'

/**
 * A periodic generator for records that arrive at most `maxOutOfOrdernessMs` late (Flink's
 * BoundedOutOfOrdernessWatermarks): it emits `maxTimestamp - maxOutOfOrdernessMs - 1`. The `- 1` is
 * Flink's: a watermark `w` says no record with timestamp `<= w` follows, and a record exactly
 * `maxOutOfOrdernessMs` behind the newest one is still on time. Before the first record it emits
 * nothing.
 *
 * @example
 * const generator = new BoundedOutOfOrdernessWatermarks<number>(100)
 * generator.onEvent(42, 1_000, output); generator.onPeriodicEmit(output) // emits 899
 */
export class BoundedOutOfOrdernessWatermarks<T> implements WatermarkGenerator<T> {
  private maxTimestamp = -Infinity

  constructor(readonly maxOutOfOrdernessMs: number) {}

  onEvent(_value: T, timestamp: number, _output: WatermarkOutput): void {
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp
  }

  onPeriodicEmit(output: WatermarkOutput): void {
    if (this.maxTimestamp === -Infinity) return
    output.emitWatermark(this.maxTimestamp - this.maxOutOfOrdernessMs - 1)
  }
}

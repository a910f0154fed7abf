import type { ProcessingTimeService } from './processing-time.js'
import type { WatermarkGenerator, WatermarkOutput } from './watermark-generator.js'

/**
 * Wraps a generator so that an input without records for `idlenessMs` of processing time is marked
 * idle, and active again on its next record (Flink's WatermarksWithIdleness). An idle input does not
 * hold back the watermark of the operators downstream of a union or a shuffle.
 *
 * Idleness is checked on the periodic emit, not per record: a record only bumps a counter, so the hot
 * path reads no clock. The input is idle once a periodic check finds the counter unchanged for
 * `idlenessMs`, so marking takes between `idlenessMs` and `idlenessMs + intervalMs`.
 *
 * @example
 * const generator = new WatermarksWithIdleness(new BoundedOutOfOrdernessWatermarks(100), 5_000, systemProcessingTime)
 */
export class WatermarksWithIdleness<T> implements WatermarkGenerator<T> {
  private records = 0
  private recordsAtLastCheck = 0
  private inactiveSince: number | undefined = undefined

  constructor(
    private readonly generator: WatermarkGenerator<T>,
    readonly idlenessMs: number,
    private readonly clock: ProcessingTimeService,
  ) {}

  onEvent(value: T, timestamp: number, output: WatermarkOutput): void {
    this.generator.onEvent(value, timestamp, output)
    this.records++
  }

  onPeriodicEmit(output: WatermarkOutput): void {
    if (this.isIdle()) output.markIdle()
    else this.generator.onPeriodicEmit(output)
  }

  private isIdle(): boolean {
    if (this.records !== this.recordsAtLastCheck) {
      this.recordsAtLastCheck = this.records
      this.inactiveSince = undefined
      return false
    }
    const now = this.clock.now()
    if (this.inactiveSince === undefined) {
      this.inactiveSince = now
      return false
    }
    return now - this.inactiveSince >= this.idlenessMs
  }
}

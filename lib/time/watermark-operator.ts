import { describeValue } from '../errors.js'
import { StreamOperator } from '../runtime/stream-operator.js'
import type { WatermarkGenerator, WatermarkOutput } from './watermark-generator.js'
import { WatermarksWithIdleness } from './watermark-idleness.js'
import type { WatermarkStrategy } from './watermark-strategy.js'

/**
 * Gives records their event timestamps and emits watermarks (Flink's TimestampsAndWatermarksOperator):
 * the strategy's assigner sets each record's timestamp, its generator sees every record and is asked
 * for a watermark every `intervalMs` of processing time. Watermarks only move forward.
 *
 * Watermarks from upstream are dropped, since this operator defines event time from here on, except
 * the final `Infinity` (end of input), which is forwarded so event-time windows downstream fire.
 * Upstream idleness is dropped too: this operator decides idleness from its own records.
 *
 * @example
 * stream.transform('timestamps', () => new TimestampsAndWatermarksOperator(strategy, 200))
 */
export class TimestampsAndWatermarksOperator<T> extends StreamOperator<T, T> implements WatermarkOutput {
  private generator!: WatermarkGenerator<T>
  private watermark = -Infinity
  private idle = false
  private cancelTick: (() => void) | undefined = undefined
  private ticking = false

  /** The operator's own interval, else the environment's autoWatermarkIntervalMs. */
  get intervalMs(): number {
    return this.ownIntervalMs ?? this.setupInfo.autoWatermarkIntervalMs
  }

  constructor(
    private readonly strategy: WatermarkStrategy<T>,
    private readonly ownIntervalMs: number | undefined,
  ) {
    super()
  }

  /** The last watermark this operator emitted; `-Infinity` before the first. */
  get currentWatermark(): number {
    return this.watermark
  }

  override open(): void {
    const generator = this.strategy.createGenerator()
    const idlenessMs = this.strategy.idlenessMs
    this.generator =
      idlenessMs === undefined
        ? generator
        : new WatermarksWithIdleness(generator, idlenessMs, this.setupInfo.processingTime)
    this.ticking = true
    this.scheduleTick()
  }

  processRecord(value: T, previousTimestamp: number | undefined): void {
    const timestamp = this.strategy.timestampAssigner(value, previousTimestamp)
    if (!Number.isFinite(timestamp))
      throw new TypeError(
        `timestamp assigner returned ${typeof timestamp === 'number' ? timestamp : describeValue(timestamp)}, not a finite number of milliseconds`,
      )
    this.markActive()
    // The record goes first, as in Flink, so a punctuated watermark emitted in onEvent follows the record it was derived from.
    this.output.collect(value, timestamp)
    this.generator.onEvent(value, timestamp, this)
  }

  override processWatermark(watermark: number): void {
    if (watermark === Infinity) this.emitWatermark(Infinity)
  }

  override processWatermarkStatus(_idle: boolean): void {}

  override endInput(): void {
    this.stopTicking()
    this.generator.onPeriodicEmit(this)
  }

  override close(): void {
    this.stopTicking()
    super.close()
  }

  emitWatermark(watermark: number): void {
    if (!(watermark > this.watermark)) return
    this.watermark = watermark
    this.markActive()
    this.output.emitWatermark(watermark)
    if (watermark === Infinity) this.stopTicking()
  }

  markIdle(): void {
    if (this.idle) return
    this.idle = true
    this.output.emitWatermarkStatus(true)
  }

  markActive(): void {
    if (!this.idle) return
    this.idle = false
    this.output.emitWatermarkStatus(false)
  }

  private scheduleTick(): void {
    const clock = this.setupInfo.processingTime
    this.cancelTick = clock.scheduleAt(clock.now() + this.intervalMs, () => {
      this.cancelTick = undefined
      if (!this.ticking) return
      this.generator.onPeriodicEmit(this)
      if (this.ticking) this.scheduleTick()
    })
  }

  private stopTicking(): void {
    this.ticking = false
    this.cancelTick?.()
    this.cancelTick = undefined
  }
}

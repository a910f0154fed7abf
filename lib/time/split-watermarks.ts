import type { SourceOutput } from '../runtime/source.js'
import type { ProcessingTimeService } from './processing-time.js'
import type { WatermarkGenerator, WatermarkOutput } from './watermark-generator.js'
import { WatermarksWithIdleness } from './watermark-idleness.js'
import type { WatermarkStrategy } from './watermark-strategy.js'

class SplitOutput implements WatermarkOutput {
  watermark = -Infinity
  idle = false
  changed = false

  emitWatermark(watermark: number): void {
    if (watermark > this.watermark) {
      this.watermark = watermark
      this.changed = true
    }
    this.markActive()
  }

  markIdle(): void {
    if (!this.idle) this.changed = true
    this.idle = true
  }

  markActive(): void {
    if (this.idle) this.changed = true
    this.idle = false
  }
}

interface SplitState<T> {
  readonly generator: WatermarkGenerator<T>
  readonly output: SplitOutput
}

/**
 * Watermarks per split — Kafka partition, Kinesis shard — combined into the reader's watermark
 * (Flink's per-split watermarks / WatermarkOutputMultiplexer). Each split has its own generator from
 * the strategy, so a partition that lags does not let the others' timestamps overtake it; the reader's
 * watermark is the minimum over the splits that are not idle, and the reader is idle when all are (or
 * it has none). Watermarks only move forward.
 *
 * The reader calls `onRecord` for every record it emits, `tick` on its periodic timer, and `emit` from
 * `pollNext` (where it has the output) whenever `pending` is true.
 *
 * @example
 * const marks = new SplitWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Order>(1_000).withIdleness(5_000), clock)
 * marks.addSplit('orders:0'); const ts = marks.onRecord('orders:0', order, record.timestamp)
 */
export class SplitWatermarks<T> {
  private readonly splits = new Map<string, SplitState<T>>()
  private emitted = -Infinity
  private idle = false
  private dirty = true

  constructor(
    private readonly strategy: WatermarkStrategy<T>,
    private readonly clock: ProcessingTimeService,
  ) {}

  /** A split this reader now reads; until its first watermark it holds the reader's watermark back. */
  addSplit(id: string): void {
    if (this.splits.has(id)) return
    const generator = this.strategy.createGenerator()
    const idlenessMs = this.strategy.idlenessMs
    this.splits.set(id, {
      generator: idlenessMs === undefined ? generator : new WatermarksWithIdleness(generator, idlenessMs, this.clock),
      output: new SplitOutput(),
    })
    this.dirty = true
  }

  /** A split this reader no longer reads (finished, or reassigned). */
  removeSplit(id: string): void {
    if (this.splits.delete(id)) this.dirty = true
  }

  /** The record's event timestamp by the strategy's assigner; the split's generator sees the record. */
  onRecord(id: string, value: T, sourceTimestamp: number | undefined): number {
    const timestamp = this.strategy.timestampAssigner(value, sourceTimestamp)
    const split = this.splits.get(id)
    if (split !== undefined) {
      split.output.markActive()
      split.generator.onEvent(value, timestamp, split.output)
      if (split.output.changed) this.dirty = true
    }
    return timestamp
  }

  /** The periodic emit: every split's generator is asked for its watermark (and checks idleness). */
  tick(): void {
    for (const split of this.splits.values()) {
      split.generator.onPeriodicEmit(split.output)
      if (split.output.changed) this.dirty = true
    }
  }

  /** Whether a split's watermark or idleness changed since the last `emit`. */
  get pending(): boolean {
    return this.dirty
  }

  /** The watermark emitted last; -Infinity before the first. */
  get current(): number {
    return this.emitted
  }

  /** Emits the combined watermark if it moved forward, or marks the output idle. */
  emit(output: SourceOutput<unknown>): void {
    this.dirty = false
    let min = Infinity
    let active = 0
    for (const split of this.splits.values()) {
      split.output.changed = false
      if (split.output.idle) continue
      active++
      if (split.output.watermark < min) min = split.output.watermark
    }
    if (active === 0) {
      if (!this.idle) {
        this.idle = true
        output.markIdle()
      }
      return
    }
    this.idle = false
    if (min > this.emitted && min !== -Infinity) {
      this.emitted = min
      output.emitWatermark(min)
    }
  }
}

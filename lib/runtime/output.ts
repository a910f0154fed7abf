import type { OutputTag } from './output-tag.js'

/**
 * Where an operator's records, watermarks and side outputs go: the next chained operator, a network
 * writer, or several of them. Called per record, so implementations do no allocation.
 */
export interface Output<T> {
  collect(value: T, timestamp: number | undefined): void
  emitWatermark(watermark: number): void
  /** An input that goes idle stops holding back the watermark of the operators downstream. */
  emitWatermarkStatus(idle: boolean): void
  emitSide<X>(tag: OutputTag<X>, value: X, timestamp: number | undefined): void
}

/**
 * Where a {@link WatermarkGenerator} emits (Flink's WatermarkOutput). Watermarks that do not move
 * forward are ignored by the emitter, so a generator may emit the same value again without harm.
 */
export interface WatermarkOutput {
  emitWatermark(watermark: number): void
  /** No records for a while: downstream operators stop waiting for this input's watermark. */
  markIdle(): void
  /** Records flow again; emitting a watermark marks the output active too. */
  markActive(): void
}

/**
 * Produces watermarks from the records it sees (Flink's WatermarkGenerator). `onEvent` runs for every
 * record, after the record has gone downstream, so a generator that emits there is *punctuated*;
 * `onPeriodicEmit` runs every `intervalMs` of processing time, so a generator that emits there is
 * *periodic*. Called per record: keep `onEvent` free of allocation.
 *
 * @example
 * const everyEvent: WatermarkGenerator<{ t: number }> = {
 *   onEvent: (_value, timestamp, output) => output.emitWatermark(timestamp - 1),
 *   onPeriodicEmit: () => {},
 * }
 */
export interface WatermarkGenerator<T> {
  onEvent(value: T, timestamp: number, output: WatermarkOutput): void
  onPeriodicEmit(output: WatermarkOutput): void
}

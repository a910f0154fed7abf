import { ConfigError } from '../errors.js'
import { BoundedOutOfOrdernessWatermarks } from './watermark-bounded-out-of-orderness.js'
import type { WatermarkGenerator } from './watermark-generator.js'
import { NoWatermarksGenerator } from './watermark-none.js'

/**
 * The event timestamp of a record. `previousTimestamp` is the timestamp the record already carries (a
 * source may set one), or undefined.
 */
export type TimestampAssigner<T> = (value: T, previousTimestamp: number | undefined) => number

/**
 * How a stream gets event time (Flink's WatermarkStrategy): a timestamp per record, a watermark
 * generator per subtask, and optionally an idleness timeout. Build one with the static methods.
 *
 * @example
 * const strategy = WatermarkStrategy.forBoundedOutOfOrderness<Click>(5_000)
 *   .withTimestampAssigner((click) => click.at)
 *   .withIdleness(60_000)
 * clicks.pipe(assignTimestampsAndWatermarks(strategy))
 */
export interface WatermarkStrategy<T> {
  readonly timestampAssigner: TimestampAssigner<T>
  createGenerator(): WatermarkGenerator<T>
  /** An input without records for this long (processing time) is marked idle. */
  readonly idlenessMs?: number
}

/**
 * A watermark strategy with the builder methods. Immutable: each `with…` returns a new one.
 *
 * @example
 * const strategy = WatermarkStrategy.forMonotonousTimestamps<Tick>().withTimestampAssigner((t) => t.time)
 */
export class WatermarkStrategyBuilder<T> implements WatermarkStrategy<T> {
  constructor(
    private readonly generatorFactory: () => WatermarkGenerator<T>,
    readonly timestampAssigner: TimestampAssigner<T> = recordTimestamp,
    readonly idlenessMs: number | undefined = undefined,
  ) {}

  createGenerator(): WatermarkGenerator<T> {
    return this.generatorFactory()
  }

  /** Takes each record's timestamp from `assigner` instead of the timestamp the record carries. */
  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategyBuilder<T> {
    if (typeof assigner !== 'function')
      throw new ConfigError('withTimestampAssigner', assigner, 'a function (value, previousTimestamp) => timestamp')
    return new WatermarkStrategyBuilder(this.generatorFactory, assigner, this.idlenessMs)
  }

  /** Marks the input idle after `idlenessMs` of processing time without records. */
  withIdleness(idlenessMs: number): WatermarkStrategyBuilder<T> {
    if (!Number.isFinite(idlenessMs) || idlenessMs <= 0)
      throw new ConfigError('withIdleness', idlenessMs, 'a positive number of milliseconds')
    return new WatermarkStrategyBuilder(this.generatorFactory, this.timestampAssigner, idlenessMs)
  }
}

/**
 * The default assigner: keeps the timestamp the record already has (Flink's RecordTimestampAssigner).
 * A record without one cannot get event time, so this fails naming the fix.
 */
function recordTimestamp(_value: unknown, previousTimestamp: number | undefined): number {
  if (previousTimestamp === undefined) {
    throw new ConfigError(
      'WatermarkStrategy.timestampAssigner',
      undefined,
      'a timestamp assigner (withTimestampAssigner), because the record carries no timestamp of its own',
    )
  }
  return previousTimestamp
}

/**
 * Builds watermark strategies (the static side of Flink's WatermarkStrategy).
 *
 * @example
 * WatermarkStrategy.forBoundedOutOfOrderness<Order>(2_000).withTimestampAssigner((o) => o.placedAt)
 */
export const WatermarkStrategy = {
  /**
   * Records arrive at most `maxOutOfOrdernessMs` after a newer record: the watermark trails the newest
   * timestamp by that much (and 1 ms).
   *
   * @example
   * WatermarkStrategy.forBoundedOutOfOrderness<Reading>(500).withTimestampAssigner((r) => r.time)
   */
  forBoundedOutOfOrderness<T>(maxOutOfOrdernessMs: number): WatermarkStrategyBuilder<T> {
    if (!Number.isFinite(maxOutOfOrdernessMs) || maxOutOfOrdernessMs < 0) {
      throw new ConfigError('forBoundedOutOfOrderness', maxOutOfOrdernessMs, 'a number of milliseconds of at least 0')
    }
    return new WatermarkStrategyBuilder<T>(() => new BoundedOutOfOrdernessWatermarks<T>(maxOutOfOrdernessMs))
  },

  /**
   * Timestamps never decrease: the watermark is the newest timestamp minus 1 ms.
   *
   * @example
   * WatermarkStrategy.forMonotonousTimestamps<Tick>().withTimestampAssigner((t) => t.time)
   */
  forMonotonousTimestamps<T>(): WatermarkStrategyBuilder<T> {
    return new WatermarkStrategyBuilder<T>(() => new BoundedOutOfOrdernessWatermarks<T>(0))
  },

  /**
   * Timestamps but no watermarks: event time never advances until the end of input.
   *
   * @example
   * WatermarkStrategy.noWatermarks<Order>().withTimestampAssigner((o) => o.at)
   */
  noWatermarks<T>(): WatermarkStrategyBuilder<T> {
    return new WatermarkStrategyBuilder<T>(() => new NoWatermarksGenerator<T>())
  },

  /**
   * A strategy around your own generator, e.g. a punctuated one that emits in `onEvent`.
   *
   * @example
   * WatermarkStrategy.forGenerator<Msg>(() => ({ onEvent: (m, ts, out) => m.isEndOfBatch && out.emitWatermark(ts), onPeriodicEmit() {} }))
   */
  forGenerator<T>(createGenerator: () => WatermarkGenerator<T>): WatermarkStrategyBuilder<T> {
    if (typeof createGenerator !== 'function')
      throw new ConfigError('forGenerator', createGenerator, 'a function returning a WatermarkGenerator')
    return new WatermarkStrategyBuilder<T>(createGenerator)
  },
} as const

/**
 * Throws a ConfigError naming `option` unless `strategy` is a WatermarkStrategy with a valid idleness.
 *
 * @example
 * validateWatermarkStrategy('kafkaSource.watermarks', options.watermarks)
 */
export function validateWatermarkStrategy(option: string, strategy: unknown): void {
  const s = strategy as Partial<WatermarkStrategy<unknown>> | undefined
  if (typeof s?.timestampAssigner !== 'function' || typeof s.createGenerator !== 'function') {
    throw new ConfigError(
      option,
      strategy,
      'a WatermarkStrategy (timestampAssigner and createGenerator), e.g. WatermarkStrategy.forBoundedOutOfOrderness(ms)',
    )
  }
  if (s.idlenessMs !== undefined && !(Number.isFinite(s.idlenessMs) && s.idlenessMs > 0)) {
    throw new ConfigError(`${option}.idlenessMs`, s.idlenessMs, 'a positive number of milliseconds')
  }
}

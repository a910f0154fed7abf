import { StateError } from '../errors.js'
import type { AggregatingState } from '../state/aggregating-state.js'
import type {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
} from '../state/descriptors.js'
import type { Key } from '../state/key-groups.js'
import type { ListState } from '../state/list-state.js'
import type { MapState } from '../state/map-state.js'
import type { ReducingState } from '../state/reducing-state.js'
import type { ValueState } from '../state/value-state.js'
import type { OutputTag } from '../runtime/output-tag.js'
import type { StreamOperator } from '../runtime/stream-operator.js'

/** Where a function emits its records. */
export interface Collector<T> {
  collect(value: T): void
}

/** Timers of the current key (keyed streams only) and the clocks. */
export interface TimerAccess {
  currentWatermark(): number
  currentProcessingTime(): number
  registerEventTimeTimer(timestamp: number): void
  registerProcessingTimeTimer(timestamp: number): void
  deleteEventTimeTimer(timestamp: number): void
  deleteProcessingTimeTimer(timestamp: number): void
}

/** What a function can reach outside a record: keyed state (on keyed streams) and where it runs. */
export interface RuntimeContext {
  readonly operatorName: string
  readonly subtask: number
  readonly parallelism: number
  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>
  getMapState<UK, UV>(descriptor: MapStateDescriptor<UK, UV>): MapState<UK, UV>
  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T>
  getAggregatingState<IN, ACC, OUT>(
    descriptor: AggregatingStateDescriptor<IN, ACC, OUT>,
  ): AggregatingState<IN, ACC, OUT>
}

/** What `processElement` and `onTimer` see besides the record. */
export interface ProcessContext {
  /** The record's (or the firing timer's) event timestamp, if it has one. */
  readonly timestamp: number | undefined
  /** The current key; undefined on streams without keyBy. */
  readonly currentKey: Key | undefined
  readonly timerService: TimerAccess
  /** The domain of the firing timer, in `onTimer`. */
  readonly timeDomain: 'event-time' | 'processing-time' | undefined
  /** Emits to a side output. */
  output<X>(tag: OutputTag<X>, value: X): void
}

/**
 * A function with access to state, timers and side outputs (Flink's (Keyed)ProcessFunction).
 *
 * @example
 * class CountPerKey implements ProcessFunction<string, [string, number]> {
 *   private count!: ValueState<number>
 *   open(rt: RuntimeContext) { this.count = rt.getState(new ValueStateDescriptor('count', { defaultValue: 0 })) }
 *   processElement(word: string, ctx: ProcessContext, out: Collector<[string, number]>) {
 *     const n = this.count.value()! + 1; this.count.update(n); out.collect([word, n])
 *   }
 * }
 * words.pipe(keyBy((w) => w), process(new CountPerKey()))
 */
export interface ProcessFunction<IN, OUT> {
  open?(runtime: RuntimeContext): void
  processElement(value: IN, ctx: ProcessContext, out: Collector<OUT>): void
  onTimer?(timestamp: number, ctx: ProcessContext, out: Collector<OUT>): void
  close?(): void
}

/**
 * The runtime context of an operator: state calls go to its keyed state backend, with a clear error on
 * unkeyed streams.
 *
 * @example
 * fn.open?.(operatorRuntimeContext(this))
 */
export function operatorRuntimeContext(op: StreamOperator<any, any>, parallelism: number): RuntimeContext {
  const backend = () => {
    if (op.keyedState === undefined)
      throw new StateError(
        'ERR_STATE_UNKEYED',
        `operator ${op.name}: keyed state needs a keyed stream (put keyBy before it)`,
      )
    return op.keyedState
  }
  return {
    operatorName: op.name,
    subtask: op.subtask,
    parallelism,
    getState: (d) => backend().getState(d),
    getListState: (d) => backend().getListState(d),
    getMapState: (d) => backend().getMapState(d),
    getReducingState: (d) => backend().getReducingState(d),
    getAggregatingState: (d) => backend().getAggregatingState(d),
  }
}

/**
 * The mutable context an operator reuses for every record (no allocation per record).
 *
 * @example
 * const ctx = new OperatorProcessContext(this, (tag, v, ts) => this.output.emitSide(tag, v, ts))
 */
export class OperatorProcessContext implements ProcessContext, TimerAccess {
  timestamp: number | undefined = undefined
  timeDomain: 'event-time' | 'processing-time' | undefined = undefined

  constructor(
    private readonly op: StreamOperator<any, any>,
    private readonly emitSide: (tag: OutputTag<any>, value: unknown, timestamp: number | undefined) => void,
  ) {}

  get currentKey(): Key | undefined {
    return this.op.keyedState?.keyContext.key
  }

  get timerService(): TimerAccess {
    return this
  }

  output<X>(tag: OutputTag<X>, value: X): void {
    this.emitSide(tag, value, this.timestamp)
  }

  currentWatermark(): number {
    return this.op.timers?.currentWatermark ?? -Infinity
  }

  currentProcessingTime(): number {
    return this.op.timers?.currentProcessingTime() ?? Date.now()
  }

  registerEventTimeTimer(timestamp: number): void {
    this.timers().registerEventTimeTimer(timestamp)
  }

  registerProcessingTimeTimer(timestamp: number): void {
    this.timers().registerProcessingTimeTimer(timestamp)
  }

  deleteEventTimeTimer(timestamp: number): void {
    this.timers().deleteEventTimeTimer(timestamp)
  }

  deleteProcessingTimeTimer(timestamp: number): void {
    this.timers().deleteProcessingTimeTimer(timestamp)
  }

  private timers() {
    if (this.op.timers === undefined)
      throw new StateError(
        'ERR_TIMERS_UNKEYED',
        `operator ${this.op.name}: timers need a keyed stream (put keyBy before it)`,
      )
    return this.op.timers
  }
}

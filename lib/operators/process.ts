import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'
import type { OperatorOptions } from '../api/transformation.js'
import { ConfigError } from '../errors.js'
import type { Timer } from '../time/timer-heap.js'
import { StreamOperator } from '../runtime/stream-operator.js'
import { type Collector, OperatorProcessContext, operatorRuntimeContext, type ProcessContext, type ProcessFunction } from './process-function.js'
import { WindowedStream } from '../api/windowed-stream.js'
import type { ProcessWindowFunction } from '../windows/process-window-function.js'
import type { Window } from '../windows/window.js'

/**
 * The general operator: a function with keyed state, event- and processing-time timers and side
 * outputs (Flink's process / KeyedProcessFunction). After `window(...)` it is a process window function.
 *
 * @example
 * const alerts = readings.pipe(keyBy((r) => r.sensor), process({
 *   processElement(r, ctx, out) { if (r.value > 100) out.collect(r); ctx.timerService.registerEventTimeTimer(r.time + 60_000) },
 *   onTimer(ts, ctx, out) { out.collect({ sensor: ctx.currentKey, silentSince: ts }) },
 * }))
 */
export function process<IN, OUT>(fn: ProcessFunction<IN, OUT> | ((value: IN, ctx: ProcessContext, out: Collector<OUT>) => void), options?: OperatorOptions): EngineOperator<IN, OUT>
export function process<IN, OUT, W extends Window = Window>(fn: ProcessWindowFunction<IN, OUT, W>, options?: OperatorOptions): EngineOperator<IN, OUT>
export function process<IN, OUT>(fn: unknown, options: OperatorOptions = {}): EngineOperator<IN, OUT> {
  if (typeof fn !== 'function' && (fn === null || typeof fn !== 'object')) throw new ConfigError('process', fn, 'a function or a process function object')
  return engineOperator((input) => {
    if (input instanceof WindowedStream) return input.process(fn as ProcessWindowFunction<IN, OUT, Window>, options)
    const fnObject = (typeof fn === 'function' ? { processElement: fn } : fn) as ProcessFunction<IN, OUT>
    if (typeof fnObject.processElement !== 'function') throw new ConfigError('process', fn, 'a function (value, ctx, out) or an object with processElement(value, ctx, out)')
    return requireStream(input, 'process').transform('process', () => new ProcessOperator(cloneFunction(fnObject)), options)
  })
}

/** Each subtask gets its own copy of a stateful function object, so fields set in `open` are per subtask. */
function cloneFunction<T extends object>(fn: T): T {
  return Object.assign(Object.create(Object.getPrototypeOf(fn)), fn)
}

class ProcessOperator<IN, OUT> extends StreamOperator<IN, OUT> implements Collector<OUT> {
  private ctx!: OperatorProcessContext

  constructor(private readonly fn: ProcessFunction<IN, OUT>) {
    super()
  }

  override open(): void {
    this.ctx = new OperatorProcessContext(this, (tag, value, ts) => this.output.emitSide(tag, value, ts))
    this.fn.open?.(operatorRuntimeContext(this, this.setupInfo.parallelism))
  }

  processRecord(value: IN, timestamp: number | undefined): void {
    this.ctx.timestamp = timestamp
    this.ctx.timeDomain = undefined
    this.fn.processElement(value, this.ctx, this)
  }

  collect(value: OUT): void {
    this.output.collect(value, this.ctx.timestamp)
  }

  override onTimer(timer: Timer, domain: 'event-time' | 'processing-time'): void {
    this.ctx.timestamp = domain === 'event-time' ? timer.timestamp : undefined
    this.ctx.timeDomain = domain
    this.fn.onTimer?.(timer.timestamp, this.ctx, this)
  }

  override close(): void {
    super.close()
    this.fn.close?.()
  }
}

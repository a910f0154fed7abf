import { StreamOperator } from '../runtime/stream-operator.js'
import type { Timer } from '../time/timer-heap.js'
import {
  type Collector,
  OperatorProcessContext,
  operatorRuntimeContext,
  type ProcessContext,
  type RuntimeContext,
} from './process-function.js'

/** What process and co-process functions have in common: setup, timers, teardown. */
export interface FunctionLifecycle<OUT> {
  open?(runtime: RuntimeContext): void
  onTimer?(timestamp: number, ctx: ProcessContext, out: Collector<OUT>): void
  close?(): void
}

/**
 * The base of operators that run a user's process function: one reused context per subtask (no
 * allocation per record), output timestamps from the record or the firing timer, and the function's
 * open / onTimer / close.
 *
 * @example
 * class ProcessOperator extends FunctionOperator<IN, OUT, ProcessFunction<IN, OUT>> {
 *   processRecord(v, ts) { this.begin(ts); this.fn.processElement(v, this.ctx, this) }
 * }
 */
export abstract class FunctionOperator<IN, OUT, F extends FunctionLifecycle<OUT>>
  extends StreamOperator<IN, OUT>
  implements Collector<OUT>
{
  protected ctx!: OperatorProcessContext

  constructor(protected readonly fn: F) {
    super()
  }

  override open(): void {
    this.ctx = new OperatorProcessContext(this, (tag, value, ts) => this.output.emitSide(tag, value, ts))
    this.fn.open?.(operatorRuntimeContext(this, this.setupInfo.parallelism))
  }

  /** Makes the context describe a record with this timestamp. */
  protected begin(timestamp: number | undefined): void {
    this.ctx.timestamp = timestamp
    this.ctx.timeDomain = undefined
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

/**
 * A per-subtask copy of a stateful function object, so fields set in `open` belong to one subtask.
 *
 * @example
 * () => new ProcessOperator(cloneFunction(fn))
 */
export function cloneFunction<T extends object>(fn: T): T {
  return Object.assign(Object.create(Object.getPrototypeOf(fn)), fn)
}

import {
  ValueStateDescriptor,
  type Collector,
  type ProcessContext,
  type ProcessFunction,
  type RuntimeContext,
  type ValueState,
} from '../../lib/index.js'

/**
 * A keyed process function that emits `key:n` for the n-th record of each key: the output of a job
 * using it is known exactly, which is what exactly-once tests compare against.
 *
 * @example
 * stream.pipe(keyBy((x: number) => x % 10), process(new RunningCount()))
 */
export class RunningCount implements ProcessFunction<unknown, string> {
  private count!: ValueState<number>

  open(rt: RuntimeContext): void {
    this.count = rt.getState(new ValueStateDescriptor<number>('count', { defaultValue: 0 }))
  }

  processElement(_value: unknown, ctx: ProcessContext, out: Collector<string>): void {
    const n = this.count.value()! + 1
    this.count.update(n)
    out.collect(`${ctx.currentKey}:${n}`)
  }
}

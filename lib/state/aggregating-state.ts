import type { AggregateFunction } from './descriptors.js'
import type { KeyContext } from './key-context.js'
import type { StateTable } from './state-table.js'

/**
 * A per-key accumulator that values are added to; `get()` reads the aggregate's result.
 *
 * @example
 * const avg = ctx.getAggregatingState(new AggregatingStateDescriptor('avg', averageFunction))
 * avg.add(4); avg.add(6); avg.get() // 5
 */
export class AggregatingState<IN, ACC, OUT> {
  constructor(
    private readonly table: StateTable<ACC>,
    private readonly keys: KeyContext,
    private readonly aggregate: AggregateFunction<IN, ACC, OUT>,
  ) {}

  get(): OUT | undefined {
    const acc = this.table.get(this.keys.key, this.keys.keyGroup)
    return acc === undefined ? undefined : this.aggregate.getResult(acc)
  }

  add(value: IN): void {
    const acc = this.table.get(this.keys.key, this.keys.keyGroup) ?? this.aggregate.createAccumulator()
    this.table.put(this.keys.key, this.keys.keyGroup, this.aggregate.add(value, acc))
  }

  clear(): void {
    this.table.remove(this.keys.key, this.keys.keyGroup)
  }
}

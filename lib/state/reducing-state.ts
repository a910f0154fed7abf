import type { KeyContext } from './key-context.js'
import type { StateTable } from './state-table.js'

/**
 * A value per key that every added value is reduced into.
 *
 * @example
 * const total = ctx.getReducingState(new ReducingStateDescriptor<number>('total', (a, b) => a + b))
 * total.add(3); total.add(4); total.get() // 7
 */
export class ReducingState<T> {
  constructor(
    private readonly table: StateTable<T>,
    private readonly keys: KeyContext,
    private readonly reduce: (a: T, b: T) => T,
  ) {}

  get(): T | undefined {
    return this.table.get(this.keys.key, this.keys.keyGroup)
  }

  add(value: T): void {
    const current = this.table.get(this.keys.key, this.keys.keyGroup)
    this.table.put(this.keys.key, this.keys.keyGroup, current === undefined ? value : this.reduce(current, value))
  }

  clear(): void {
    this.table.remove(this.keys.key, this.keys.keyGroup)
  }
}

import type { KeyContext } from './key-context.js'
import type { StateTable } from './state-table.js'

/**
 * One value per key. `value()` gives the descriptor's default when the key has none.
 *
 * @example
 * const count = ctx.getState(new ValueStateDescriptor<number>('count', { defaultValue: 0 }))
 * count.update(count.value()! + 1)
 */
export class ValueState<T> {
  constructor(
    private readonly table: StateTable<T>,
    private readonly keys: KeyContext,
    private readonly defaultValue: T | undefined,
  ) {}

  value(): T | undefined {
    const v = this.table.get(this.keys.key, this.keys.keyGroup)
    return v === undefined ? this.defaultValue : v
  }

  update(value: T): void {
    if (value === undefined) this.clear()
    else this.table.put(this.keys.key, this.keys.keyGroup, value)
  }

  clear(): void {
    this.table.remove(this.keys.key, this.keys.keyGroup)
  }
}

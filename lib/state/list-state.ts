import type { KeyContext } from './key-context.js'
import type { StateTable } from './state-table.js'

/**
 * A list of values per key.
 *
 * @example
 * const seen = ctx.getListState(new ListStateDescriptor<string>('seen'))
 * seen.add('a'); seen.get() // ['a']
 */
export class ListState<T> {
  constructor(
    private readonly table: StateTable<T[]>,
    private readonly keys: KeyContext,
  ) {}

  /** The values for the current key, oldest first; an empty array when there are none. */
  get(): readonly T[] {
    return this.table.get(this.keys.key, this.keys.keyGroup) ?? []
  }

  add(value: T): void {
    const list = this.table.get(this.keys.key, this.keys.keyGroup)
    if (list === undefined) this.table.put(this.keys.key, this.keys.keyGroup, [value])
    else {
      list.push(value)
      if (this.table.ttl !== undefined) this.table.put(this.keys.key, this.keys.keyGroup, list)
    }
  }

  addAll(values: Iterable<T>): void {
    for (const v of values) this.add(v)
  }

  update(values: Iterable<T>): void {
    const list = [...values]
    if (list.length === 0) this.clear()
    else this.table.put(this.keys.key, this.keys.keyGroup, list)
  }

  clear(): void {
    this.table.remove(this.keys.key, this.keys.keyGroup)
  }
}

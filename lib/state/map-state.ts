import type { KeyContext } from './key-context.js'
import type { StateTable } from './state-table.js'

/**
 * A map per key.
 *
 * @example
 * const hits = ctx.getMapState(new MapStateDescriptor<string, number>('hits'))
 * hits.put('/home', (hits.get('/home') ?? 0) + 1)
 */
export class MapState<UK, UV> {
  constructor(
    private readonly table: StateTable<Map<UK, UV>>,
    private readonly keyContext: KeyContext,
  ) {}

  private current(): Map<UK, UV> | undefined {
    return this.table.get(this.keyContext.key, this.keyContext.keyGroup)
  }

  get(userKey: UK): UV | undefined {
    return this.current()?.get(userKey)
  }

  put(userKey: UK, value: UV): void {
    const map = this.current()
    if (map === undefined) this.table.put(this.keyContext.key, this.keyContext.keyGroup, new Map([[userKey, value]]))
    else {
      map.set(userKey, value)
      if (this.table.ttl !== undefined) this.table.put(this.keyContext.key, this.keyContext.keyGroup, map)
    }
  }

  remove(userKey: UK): void {
    const map = this.current()
    if (map === undefined) return
    map.delete(userKey)
    if (map.size === 0) this.clear()
  }

  contains(userKey: UK): boolean {
    return this.current()?.has(userKey) ?? false
  }

  entries(): IterableIterator<[UK, UV]> {
    return (this.current() ?? new Map<UK, UV>()).entries()
  }

  keys(): IterableIterator<UK> {
    return (this.current() ?? new Map<UK, UV>()).keys()
  }

  values(): IterableIterator<UV> {
    return (this.current() ?? new Map<UK, UV>()).values()
  }

  isEmpty(): boolean {
    return (this.current()?.size ?? 0) === 0
  }

  clear(): void {
    this.table.remove(this.keyContext.key, this.keyContext.keyGroup)
  }
}

/**
 * Keeps the actions of one document in order across bulk requests sent at once: Elasticsearch applies
 * concurrent requests in any order, and a retried item must not overtake a later action on its id.
 * A request takes its keys when it starts (in write order) and waits for the earlier requests holding
 * any of them; it frees them when all its items are done.
 *
 * @example
 * const order = new KeyOrder()
 * const { ready, release } = order.take(['logs/1', 'logs/2'])
 * await ready; await send(); release()
 */
export class KeyOrder {
  private readonly holders = new Map<string, Promise<void>>()

  /** Takes `keys` now; `ready` settles when the requests that took any of them before have released them. */
  take(keys: Iterable<string | undefined>): { ready: Promise<void>; release: () => void } {
    let release!: () => void
    const done = new Promise<void>((resolve) => (release = resolve))
    const before = new Set<Promise<void>>()
    const taken: string[] = []
    for (const key of keys) {
      if (key === undefined) continue
      const holder = this.holders.get(key)
      if (holder === done) continue
      if (holder !== undefined) before.add(holder)
      this.holders.set(key, done)
      taken.push(key)
    }
    return {
      ready: before.size === 0 ? Promise.resolve() : Promise.all(before).then(() => undefined),
      release: () => {
        for (const key of taken) if (this.holders.get(key) === done) this.holders.delete(key)
        release()
      },
    }
  }
}

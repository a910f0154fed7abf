import type { ActorRef } from './actor-ref.js'

/** An actor as its guardian sees it: a ref plus the name it is registered under. */
export interface ChildActor extends ActorRef<unknown> {
  readonly name: string
}

/**
 * Who supervises a set of children: a parent actor, or the system's root for top-level actors.
 *
 * @example
 * const root: Guardian = { path: '/user', self: undefined, isRoot: true, childEscalated, childTerminated }
 */
export interface Guardian {
  readonly path: string
  /** The parent's ref as children see it; undefined for the root. */
  readonly self: ActorRef<unknown> | undefined
  readonly isRoot: boolean
  /** A child stopped and passes its failure up. */
  childEscalated(child: ChildActor, error: unknown): void
  /** A child has fully stopped; its name is free again. */
  childTerminated(child: ChildActor): void
}

/**
 * The live children of one guardian, in spawn order, keyed by their unique name.
 *
 * @example
 * const children = new Children()
 * children.add(child)
 * await children.stopAll() // youngest first
 */
export class Children {
  private readonly byName = new Map<string, ChildActor>()

  get size(): number {
    return this.byName.size
  }

  get refs(): ReadonlyArray<ActorRef<unknown>> {
    return Array.from(this.byName.values())
  }

  has(name: string): boolean {
    return this.byName.has(name)
  }

  add(child: ChildActor): void {
    this.byName.set(child.name, child)
  }

  remove(child: ChildActor): void {
    if (this.byName.get(child.name) === child) this.byName.delete(child.name)
  }

  /**
   * Stops the children one at a time, youngest first (reverse spawn order, as Akka does): a child
   * spawned later may depend on an earlier sibling, never the other way round. Children spawned while
   * this runs are stopped too.
   */
  async stopAll(): Promise<void> {
    for (let youngest = this.youngest(); youngest !== undefined; youngest = this.youngest()) {
      await youngest.stop()
      this.remove(youngest)
    }
  }

  private youngest(): ChildActor | undefined {
    let last: ChildActor | undefined
    for (const child of this.byName.values()) last = child
    return last
  }
}

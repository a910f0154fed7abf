import type { ActorRef } from './actor-ref.js'
import type { ActorContext, ActorSystemView, BehaviorFactory } from './behavior.js'
import type { Children } from './children.js'
import type { SpawnOptions } from './spawn-options.js'

/** What an actor lends its context; the context adds nothing but a stable, narrow view of it. */
export interface ContextHost<M> {
  readonly self: ActorRef<M>
  readonly path: string
  readonly system: ActorSystemView
  readonly parent: ActorRef<unknown> | undefined
  readonly children: Children
  spawn<C>(factory: BehaviorFactory<C>, options: SpawnOptions<C>): ActorRef<C>
}

/**
 * Builds the context handed to an actor's factory, once per actor (it survives restarts), so nothing
 * is allocated per message. Internal.
 *
 * @example
 * const ctx = createActorContext({ self, path, system, parent: undefined, children, spawn })
 */
export function createActorContext<M>(host: ContextHost<M>): ActorContext<M> {
  const { self, path, system, parent, children } = host
  return {
    self,
    path,
    system,
    parent,
    get children() {
      return children.refs
    },
    spawn: (factory, options) => host.spawn(factory, options),
    stop: () => self.stop(),
  }
}

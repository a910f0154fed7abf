import type { ActorRef } from './actor-ref.js'
import type { ActorSystem } from './actor-system.js'
import type { SpawnOptions } from './spawn-options.js'

/**
 * How an actor handles its messages. State lives in the closure of the factory that built it, so a
 * restart (which calls the factory again) starts from fresh state.
 *
 * @example
 * const counter: BehaviorFactory<number> = () => {
 *   let total = 0
 *   return { receive: (n) => { total += n } }
 * }
 */
export interface Behavior<M> {
  /**
   * Handles one message. When it returns a promise, the next message waits until it settles; a
   * rejection is a failure exactly like a throw, handled by the actor's supervisor.
   */
  receive(message: M): void | Promise<void>
  /** Runs once the actor has stopped (children already stopped). Errors go to `system.failures`. */
  postStop?(): void | Promise<void>
  /** Runs before a restart replaces this behavior; release what the factory acquired. */
  preRestart?(error: unknown): void
}

/**
 * Builds a behavior for an actor: called at spawn, and again on every restart.
 *
 * @example
 * const echo: BehaviorFactory<{ text: string; replyTo: ActorRef<string> }> = (ctx) => ({
 *   receive: ({ text, replyTo }) => { replyTo.tell(`${ctx.path}: ${text}`) },
 * })
 */
export type BehaviorFactory<M> = (ctx: ActorContext<M>) => Behavior<M>

/**
 * What a behavior knows about its actor: itself, its place in the tree, and how to make children.
 *
 * @example
 * const parent: BehaviorFactory<string> = (ctx) => {
 *   const worker = ctx.spawn(workerBehavior, { name: 'worker', supervision: Supervision.restart() })
 *   return { receive: (job) => { worker.tell(job) } }
 * }
 */
export interface ActorContext<M> {
  readonly self: ActorRef<M>
  readonly system: ActorSystem
  readonly path: string
  /** Undefined for top-level actors, whose guardian is the system. */
  readonly parent?: ActorRef<unknown>
  /** Live children in spawn order. */
  readonly children: ReadonlyArray<ActorRef<unknown>>
  /** Spawns a child supervised by this actor; throws ConfigError on invalid options. */
  spawn<C>(factory: BehaviorFactory<C>, options: SpawnOptions): ActorRef<C>
  /** Same as `self.stop()`. */
  stop(): Promise<void>
}

import type { Observable } from 'rxjs'
import type { ActorRef } from './actor-ref.js'
import type { SpawnOptions } from './spawn-options.js'
import type { ActorFailure, DeadLetter } from './system-events.js'

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
 * The public face of an {@link ActorSystem} as its actors see it (`ctx.system`); ActorSystem implements
 * it. Declared here so behaviors and contexts need not import the system that spawns them.
 *
 * @example
 * const spawner: BehaviorFactory<string> = (ctx) => ({ receive: (name) => void ctx.system.spawn(echo, { name }) })
 */
export interface ActorSystemView {
  readonly name: string
  /** Messages that could not be delivered or handled. */
  readonly deadLetters: Observable<DeadLetter>
  /** Failures of top-level actors and of `postStop` hooks. */
  readonly failures: Observable<ActorFailure>
  /** Top-level actors alive, in spawn order. */
  readonly actors: ReadonlyArray<ActorRef<unknown>>
  spawn<M>(factory: BehaviorFactory<M>, options: SpawnOptions<M>): ActorRef<M>
  terminate(): Promise<void>
}

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
  readonly system: ActorSystemView
  readonly path: string
  /** Undefined for top-level actors, whose guardian is the system. */
  readonly parent?: ActorRef<unknown>
  /** Live children in spawn order. */
  readonly children: ReadonlyArray<ActorRef<unknown>>
  /** Spawns a child supervised by this actor; throws ConfigError on invalid options. */
  spawn<C>(factory: BehaviorFactory<C>, options: SpawnOptions<C>): ActorRef<C>
  /** Same as `self.stop()`. */
  stop(): Promise<void>
}

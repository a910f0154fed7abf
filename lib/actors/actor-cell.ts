import { ActorError } from '../errors.js'
import type { ActorRef } from './actor-ref.js'
import { askActor } from './ask.js'
import { waitAtLeast, type CuttableDelay } from './backoff-timer.js'
import { createActorContext } from './actor-context.js'
import type { ActorContext, Behavior, BehaviorFactory } from './behavior.js'
import { Children, type ChildActor, type Guardian } from './children.js'
import type { Runnable } from './dispatcher.js'
import { BoundedMailbox } from './mailbox.js'
import { resolveSpawnOptions, type ResolvedSpawnOptions, type SpawnOptions } from './spawn-options.js'
import { escalatedError, failedMessageReason, Supervisor } from './supervisor.js'
import type { SystemServices } from './system-services.js'
import { Deferred } from '../util/deferred.js'

// running: has a behavior and handles messages. restarting: waiting for children and backoff, messages
// queue up. terminating: children stopping and postStop running, messages refused. stopped: final.
type Lifecycle = 'running' | 'restarting' | 'terminating' | 'stopped'

/**
 * Spawns an actor under `guardian` and registers it among `siblings`; throws ConfigError on invalid
 * options and rethrows what the factory throws (the actor then never existed). Internal.
 *
 * @example
 * spawnActor(root, topLevel, services, counter, { name: 'counter' })
 */
export function spawnActor<M>(
  guardian: Guardian,
  siblings: Children,
  services: SystemServices,
  factory: BehaviorFactory<M>,
  options: SpawnOptions<M>,
): ActorRef<M> {
  const cell = new ActorCell<M>(guardian, services, factory, resolveSpawnOptions(options, siblings, guardian.path))
  cell.start()
  siblings.add(cell)
  return cell
}

/**
 * The actor itself: mailbox, current behavior, supervisor and children, behind the ActorRef interface.
 * Internal; users hold it only as an `ActorRef`. The dispatcher calls `runTurn`.
 *
 * @example
 * const ref = spawnActor(root, topLevel, services, counter, { name: 'counter' }) // an ActorCell
 */
export class ActorCell<M> implements ActorRef<M>, ChildActor, Guardian, Runnable {
  readonly name: string
  readonly path: string
  readonly isRoot = false
  readonly self: ActorRef<unknown> = this
  readonly mailboxCapacity: number
  private readonly termination = new Deferred()
  readonly terminated = this.termination.promise
  private readonly mailbox: BoundedMailbox<M>
  private readonly supervisor: Supervisor
  private readonly children = new Children()
  private readonly context: ActorContext<M>
  private behavior: Behavior<M> | undefined
  private lifecycle: Lifecycle = 'running'
  private accepting = true
  private stopRequested = false
  // In the run queue or running a turn; keeps the actor enqueued at most once.
  private scheduled = false
  // An async receive is in flight; the next message waits for it.
  private busy = false
  // Bumped on restart and stop, so a late settlement of an old behavior's promise is ignored.
  private incarnation = 0
  private backoff: CuttableDelay | undefined

  constructor(
    private readonly guardian: Guardian,
    private readonly services: SystemServices,
    private readonly factory: BehaviorFactory<M>,
    options: ResolvedSpawnOptions<M>,
  ) {
    this.name = options.name
    this.path = `${guardian.path}/${options.name}`
    this.mailbox = options.mailbox ?? new BoundedMailbox<M>(options.mailboxCapacity)
    this.mailboxCapacity = options.mailboxCapacity
    this.supervisor = new Supervisor(options.supervision, this.path)
    this.context = createActorContext<M>({
      self: this,
      path: this.path,
      system: services.system,
      parent: guardian.self,
      children: this.children,
      spawn: (factory, spawnOptions) => this.spawnChild(factory, spawnOptions),
    })
  }

  get mailboxSize(): number {
    return this.mailbox.size
  }

  get isAlive(): boolean {
    return this.accepting
  }

  start(): void {
    try {
      this.behavior = this.factory(this.context)
    } catch (error) {
      this.accepting = false
      this.lifecycle = 'stopped'
      this.dropMailbox()
      void this.children.stopAll()
      this.termination.resolve()
      throw error
    }
  }

  tell(message: M): boolean {
    if (!this.accepting) {
      this.services.deadLetter(this.path, message, 'stopped')
      return false
    }
    if (!this.mailbox.offer(message)) {
      this.services.deadLetter(this.path, message, 'mailbox-full')
      return false
    }
    this.scheduleIfNeeded()
    return true
  }

  ask<R>(build: (replyTo: ActorRef<R>) => M, timeoutMs: number): Promise<R> {
    return askActor(this, build, timeoutMs, this.services)
  }

  stop(): Promise<void> {
    if (this.stopRequested || this.lifecycle === 'terminating' || this.lifecycle === 'stopped') return this.terminated
    this.stopRequested = true
    this.accepting = false
    // Waiting out a long backoff would hold up shutdown; the queued messages deserve a behavior now.
    this.backoff?.cut()
    this.scheduleIfNeeded()
    return this.terminated
  }

  runTurn(budget: number, deadline: number): boolean {
    const mailbox = this.mailbox
    for (
      let handled = 0;
      handled < budget && mailbox.size > 0 && this.lifecycle === 'running' && !this.busy;
      handled++
    ) {
      this.invoke(mailbox.poll() as M)
      // slow messages must not keep the turn far past the slice; the clock is read every 8 messages
      // (a read costs as much as handling a small message)
      if ((handled & 7) === 7 && this.services.dispatcher.sliceOver(deadline)) break
    }
    if (this.lifecycle === 'running' && !this.busy) {
      if (mailbox.size > 0) return true
      if (this.stopRequested) void this.terminate()
    }
    this.scheduled = false
    return false
  }

  childEscalated(child: ChildActor, error: unknown): void {
    if (this.lifecycle !== 'running') {
      // A parent already restarting or stopping has no behavior left to decide with.
      this.services.failure(child.path, error)
      return
    }
    this.fail(escalatedError(child.path, this.path, error), false)
  }

  childTerminated(child: ChildActor): void {
    this.children.remove(child)
  }

  private invoke(message: M): void {
    let result: void | Promise<void>
    try {
      result = this.behavior!.receive(message)
    } catch (error) {
      this.fail(error, true, message)
      return
    }
    if (result !== undefined && typeof (result as PromiseLike<void>).then === 'function')
      this.awaitReceive(result, message)
  }

  private awaitReceive(pending: PromiseLike<void>, message: M): void {
    this.busy = true
    const incarnation = this.incarnation
    pending.then(
      () => {
        if (incarnation !== this.incarnation) return
        this.busy = false
        this.scheduleIfNeeded()
      },
      (error: unknown) => {
        if (incarnation !== this.incarnation) return
        this.busy = false
        this.fail(error, true, message)
        this.scheduleIfNeeded()
      },
    )
  }

  private scheduleIfNeeded(): void {
    if (this.scheduled || this.busy || this.lifecycle !== 'running') return
    if (this.mailbox.size === 0 && !this.stopRequested) return
    this.scheduled = true
    this.services.dispatcher.schedule(this)
  }

  private fail(error: unknown, hasMessage: boolean, message?: M): void {
    const directive = this.supervisor.decide(error)
    if (hasMessage) this.services.deadLetter(this.path, message, failedMessageReason(directive))
    switch (directive.kind) {
      case 'resume':
        // A factory that threw on restart left no behavior to resume with.
        if (this.behavior === undefined) this.stopAfterFailure(error)
        return
      case 'restart':
        this.restart(error, directive.delayMs)
        return
      case 'stop':
        this.stopAfterFailure(error)
        return
      case 'escalate':
        void this.terminate()
        this.guardian.childEscalated(this, directive.error)
        return
    }
  }

  private stopAfterFailure(error: unknown): void {
    if (this.guardian.isRoot) this.services.failure(this.path, error)
    void this.terminate()
  }

  private restart(error: unknown, delayMs: number): void {
    const failed = this.behavior
    this.lifecycle = 'restarting'
    this.behavior = undefined
    this.busy = false
    const incarnation = ++this.incarnation
    try {
      failed?.preRestart?.(error)
    } catch (hookError) {
      this.services.failure(this.path, hookError)
    }
    const backoff = waitAtLeast(this.stopRequested ? 0 : delayMs)
    this.backoff = backoff
    void Promise.all([this.children.stopAll(), backoff.done]).then(() => {
      if (this.backoff === backoff) this.backoff = undefined
      if (incarnation === this.incarnation) this.recreate()
    })
  }

  private recreate(): void {
    this.lifecycle = 'running'
    try {
      this.behavior = this.factory(this.context)
    } catch (error) {
      this.fail(error, false)
      return
    }
    this.scheduleIfNeeded()
  }

  private async terminate(): Promise<void> {
    if (this.lifecycle === 'terminating' || this.lifecycle === 'stopped') return
    this.lifecycle = 'terminating'
    this.accepting = false
    this.busy = false
    this.incarnation++
    this.backoff?.cut()
    this.dropMailbox()
    await this.children.stopAll()
    const behavior = this.behavior
    this.behavior = undefined
    try {
      await behavior?.postStop?.()
    } catch (error) {
      this.services.failure(this.path, error)
    }
    this.lifecycle = 'stopped'
    this.guardian.childTerminated(this)
    this.termination.resolve()
  }

  private dropMailbox(): void {
    while (this.mailbox.size > 0) this.services.deadLetter(this.path, this.mailbox.poll(), 'stopped')
  }

  private spawnChild<C>(factory: BehaviorFactory<C>, options: SpawnOptions<C>): ActorRef<C> {
    if (this.lifecycle === 'terminating' || this.lifecycle === 'stopped') {
      throw new ActorError(
        'ERR_ACTOR_STOPPED',
        `cannot spawn ${JSON.stringify(options.name)} under ${this.path}: it is stopping`,
      )
    }
    return spawnActor(this, this.children, this.services, factory, options)
  }
}

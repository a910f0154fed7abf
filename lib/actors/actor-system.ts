import { Subject, type Observable } from 'rxjs'
import { ActorError, ConfigError } from '../errors.js'
import { spawnActor } from './actor-cell.js'
import type { ActorRef } from './actor-ref.js'
import type { ActorSystemView, BehaviorFactory } from './behavior.js'
import { Children, type Guardian } from './children.js'
import { Dispatcher } from './dispatcher.js'
import type { SpawnOptions } from './spawn-options.js'
import type { ActorFailure, DeadLetter, DeadLetterReason } from './system-events.js'
import type { SystemServices } from './system-services.js'

/** Options of an {@link ActorSystem}. */
export interface ActorSystemOptions {
  /** For logs and errors; default 'sluice'. */
  readonly name?: string
  /** Max messages one actor handles per turn before the next actor runs; default 64. */
  readonly throughput?: number
  /** Continuous work, in ms, before the dispatcher yields to the event loop with setImmediate; default 4. */
  readonly timeSliceMs?: number
  /** Ends the dispatcher's time slice early while it returns true, checked where it reads the clock. */
  readonly yieldRequested?: () => boolean
}

/**
 * The root of an actor tree: spawns top-level actors (supervised by the system, paths under '/user'),
 * runs every actor on one shared dispatcher, and publishes what no actor could handle on `deadLetters`
 * and `failures`. `terminate()` is the graceful exit.
 *
 * @example
 * const system = new ActorSystem({ name: 'word-count' })
 * system.failures.subscribe(({ path, error }) => console.error(path, error))
 * const printer = system.spawn<string>(() => ({ receive: (line) => console.log(line) }), { name: 'printer' })
 * printer.tell('hello')
 * await system.terminate()
 */
export class ActorSystem implements ActorSystemView {
  readonly name: string
  readonly deadLetters: Observable<DeadLetter>
  readonly failures: Observable<ActorFailure>
  private readonly deadLetterSubject = new Subject<DeadLetter>()
  private readonly failureSubject = new Subject<ActorFailure>()
  private readonly topLevel = new Children()
  private readonly services: SystemServices
  private readonly root: Guardian
  private termination: Promise<void> | undefined

  constructor(options: ActorSystemOptions = {}) {
    const { name = 'sluice', throughput, timeSliceMs, yieldRequested } = options
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError('name', name, 'a non-empty string')
    this.name = name
    this.deadLetters = this.deadLetterSubject.asObservable()
    this.failures = this.failureSubject.asObservable()
    let asks = 0
    this.services = {
      system: this,
      dispatcher: new Dispatcher({ throughput, timeSliceMs, yieldRequested }),
      deadLetter: (recipient: string, message: unknown, reason: DeadLetterReason) =>
        this.deadLetterSubject.next({ recipient, message, reason }),
      failure: (path: string, error: unknown) => this.failureSubject.next({ path, error }),
      tempPath: () => `/temp/ask-${++asks}`,
    }
    this.root = {
      path: '/user',
      self: undefined,
      isRoot: true,
      childEscalated: (child, error) => this.failureSubject.next({ path: child.path, error }),
      childTerminated: (child) => this.topLevel.remove(child),
    }
  }

  /** Top-level actors alive, in spawn order. */
  get actors(): ReadonlyArray<ActorRef<unknown>> {
    return this.topLevel.refs
  }

  /**
   * Spawns a top-level actor. Throws ConfigError on invalid options (naming the option), ActorError
   * ERR_SYSTEM_TERMINATED once `terminate()` was called, and whatever the factory throws.
   *
   * @example
   * const counter = system.spawn(counterBehavior, { name: 'counter', mailboxCapacity: 256, supervision: Supervision.restart() })
   */
  spawn<M>(factory: BehaviorFactory<M>, options: SpawnOptions<M>): ActorRef<M> {
    if (this.termination !== undefined) {
      const name = JSON.stringify(options.name)
      throw new ActorError('ERR_SYSTEM_TERMINATED', `actor system ${this.name} is terminating; cannot spawn ${name}`)
    }
    return spawnActor(this.root, this.topLevel, this.services, factory, options)
  }

  /**
   * Graceful shutdown: stops the top-level actors one at a time in reverse spawn order; each first
   * handles the messages already in its mailbox, then stops its own children the same way (so children
   * stop before their parents), then runs `postStop`. Completes `deadLetters` and `failures` at the end;
   * a tell to a stopped actor after that returns false but is no longer observable.
   *
   * @example
   * process.once('SIGTERM', () => void system.terminate())
   */
  terminate(): Promise<void> {
    this.termination ??= this.topLevel.stopAll().then(() => {
      this.deadLetterSubject.complete()
      this.failureSubject.complete()
    })
    return this.termination
  }
}

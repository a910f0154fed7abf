import { ActorError, ConfigError } from '../errors.js'
import type { ActorRef } from './actor-ref.js'
import type { SystemServices } from './system-services.js'
import { Deferred } from '../util/deferred.js'

/**
 * Implements `ActorRef#ask` for any target: a temporary reply ref resolves the promise on its first
 * `tell`; a timer rejects it with ERR_ASK_TIMEOUT. Internal; callers use `ref.ask(...)`.
 *
 * @example
 * askActor(target, (replyTo) => ({ type: 'get', replyTo }), 500, services)
 */
export function askActor<M, R>(
  target: ActorRef<M>,
  build: (replyTo: ActorRef<R>) => M,
  timeoutMs: number,
  services: SystemServices,
): Promise<R> {
  if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) {
    return Promise.reject(new ConfigError('timeoutMs', timeoutMs, 'a positive, finite number of milliseconds'))
  }
  return new Promise<R>((resolve, reject) => {
    const replyTo = new ReplyRef<R>(services.tempPath(), services, resolve, reject)
    replyTo.expireAfter(timeoutMs, target.path)
    let request: M
    try {
      request = build(replyTo)
    } catch (error) {
      replyTo.fail(error)
      return
    }
    if (!target.tell(request)) {
      // Waiting for the timeout would only delay a failure already known: the request is a dead letter.
      replyTo.fail(
        new ActorError('ERR_ASK_UNDELIVERED', `ask to ${target.path} was not delivered (see dead letters)`, {
          retriable: true,
        }),
      )
    }
  })
}

/** The temporary ref handed to the asked actor as `replyTo`; it accepts exactly one reply. */
class ReplyRef<R> implements ActorRef<R> {
  readonly mailboxCapacity = 1
  private settled = false
  private timer: NodeJS.Timeout | undefined
  private termination: Deferred | undefined

  constructor(
    readonly path: string,
    private readonly services: SystemServices,
    private readonly resolve: (reply: R) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  get mailboxSize(): number {
    return 0
  }

  get isAlive(): boolean {
    return !this.settled
  }

  // Created on demand: almost no one awaits a reply ref's termination, and asks are frequent.
  get terminated(): Promise<void> {
    if (this.settled) return Promise.resolve()
    this.termination ??= new Deferred()
    return this.termination.promise
  }

  tell(reply: R): boolean {
    if (this.settled) {
      this.services.deadLetter(this.path, reply, 'stopped')
      return false
    }
    this.settle()
    this.resolve(reply)
    return true
  }

  ask<R2>(build: (replyTo: ActorRef<R2>) => R, timeoutMs: number): Promise<R2> {
    return askActor(this, build, timeoutMs, this.services)
  }

  stop(): Promise<void> {
    this.fail(new ActorError('ERR_ASK_CANCELLED', `reply ref ${this.path} was stopped before a reply arrived`))
    return Promise.resolve()
  }

  expireAfter(timeoutMs: number, targetPath: string): void {
    this.timer = setTimeout(() => {
      this.fail(
        new ActorError('ERR_ASK_TIMEOUT', `ask to ${targetPath} timed out after ${timeoutMs} ms`, { retriable: true }),
      )
    }, timeoutMs)
  }

  fail(error: unknown): void {
    if (this.settled) return
    this.settle()
    this.reject(error)
  }

  private settle(): void {
    this.settled = true
    clearTimeout(this.timer)
    this.termination?.resolve()
  }
}

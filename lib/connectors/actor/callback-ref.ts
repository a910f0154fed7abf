import type { ActorRef } from '../../actors/actor-ref.js'
import { ConnectorError } from '../../errors.js'

/**
 * A ref outside any actor system whose `tell` is handled on the spot: the `replyTo` of the actor sink's
 * acks, and the stand-in refs of the worker-thread bridges (a tell posted to the other thread).
 *
 * @example
 * const inbox = new CallbackRef<ActorSinkAck>('/user/target/acks-0', () => acked())
 * target.tell({ type: 'init', replyTo: inbox })
 */
export class CallbackRef<M> implements ActorRef<M> {
  readonly mailboxSize = 0
  readonly mailboxCapacity = 1
  readonly isAlive = true
  readonly terminated = new Promise<void>(() => {})

  constructor(
    readonly path: string,
    private readonly onTell: (message: M) => void,
  ) {}

  tell(message: M): boolean {
    this.onTell(message)
    return true
  }

  ask<R>(): Promise<R> {
    return Promise.reject(new ConnectorError('ERR_UNSUPPORTED', `${this.path} only takes replies`))
  }

  stop(): Promise<void> {
    return Promise.resolve()
  }
}

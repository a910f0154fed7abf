/**
 * The only handle to an actor: it accepts messages and never exposes state. Messages should be plain,
 * immutable data; the actor handles them one at a time, in the order they were told.
 *
 * @example
 * const counter: ActorRef<{ type: 'add'; n: number } | { type: 'get'; replyTo: ActorRef<number> }> =
 *   system.spawn(counterBehavior, { name: 'counter' })
 * counter.tell({ type: 'add', n: 2 })
 * const total = await counter.ask<number>((replyTo) => ({ type: 'get', replyTo }), 1_000)
 */
export interface ActorRef<M> {
  /** '/user/parent/child'; temporary ask refs live under '/temp'. */
  readonly path: string
  /** Messages waiting in the mailbox. */
  readonly mailboxSize: number
  readonly mailboxCapacity: number
  /** True while the actor accepts messages: false from the moment it begins stopping. */
  readonly isAlive: boolean
  /** Settles once the actor has stopped: children stopped and `postStop` done. Never rejects. */
  readonly terminated: Promise<void>

  /**
   * Enqueues a message without waiting. Returns false when the mailbox is full or the actor is stopping
   * or stopped; the message is then published on `system.deadLetters` with the reason.
   *
   * @example
   * if (!ref.tell(record)) pauseSource()
   */
  tell(message: M): boolean

  /**
   * Request-reply: builds a message carrying a temporary `replyTo` ref, whose first `tell` resolves the
   * promise. Rejects with ActorError ERR_ASK_TIMEOUT after `timeoutMs`, or ERR_ASK_UNDELIVERED at once
   * when the request became a dead letter.
   *
   * @example
   * const size = await cache.ask<number>((replyTo) => ({ type: 'size', replyTo }), 500)
   */
  ask<R>(build: (replyTo: ActorRef<R>) => M, timeoutMs: number): Promise<R>

  /**
   * Graceful stop: refuses new messages, handles those already in the mailbox, stops the children
   * (youngest first), then runs `postStop`. Resolves with `terminated`; calling it again is harmless.
   *
   * @example
   * await ref.stop()
   */
  stop(): Promise<void>
}

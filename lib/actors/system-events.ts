/**
 * Why a message was not handled: the mailbox was full, the recipient had stopped, or handling it failed
 * and the supervisor resumed / restarted / stopped / escalated (`<directive>-failure`).
 */
export type DeadLetterReason =
  | 'mailbox-full'
  | 'stopped'
  | 'resumed-failure'
  | 'restarted-failure'
  | 'stopped-failure'
  | 'escalated-failure'
  | (string & {})

/**
 * A message that was not handled, published on `system.deadLetters`; nothing is dropped silently.
 *
 * @example
 * system.deadLetters.subscribe(({ recipient, reason }) => console.warn(`dead letter to ${recipient}: ${reason}`))
 */
export interface DeadLetter {
  readonly recipient: string
  readonly message: unknown
  readonly reason: DeadLetterReason
}

/**
 * A failure no actor handled, published on `system.failures`: a top-level actor escalated or stopped on a
 * failure, or a lifecycle hook (`postStop`, `preRestart`) threw, or a failure reached a parent that was
 * already stopping or restarting.
 *
 * @example
 * system.failures.subscribe(({ path, error }) => console.error(`${path} failed`, error))
 */
export interface ActorFailure {
  readonly path: string
  readonly error: unknown
}

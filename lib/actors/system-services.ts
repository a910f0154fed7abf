import type { ActorSystemView } from './behavior.js'
import type { Dispatcher } from './dispatcher.js'
import type { DeadLetterReason } from './system-events.js'

/**
 * What every actor of a system shares: the dispatcher and the two outlets for what actors cannot handle.
 * Internal: it keeps these capabilities off the public ActorSystem surface.
 *
 * @example
 * services.deadLetter('/user/a', message, 'mailbox-full')
 */
export interface SystemServices {
  readonly system: ActorSystemView
  readonly dispatcher: Dispatcher
  deadLetter(recipient: string, message: unknown, reason: DeadLetterReason): void
  failure(path: string, error: unknown): void
  /** A fresh path for the temporary reply ref of an `ask`. */
  tempPath(): string
}

import { ConfigError } from '../errors.js'
import type { ActorRef } from './actor-ref.js'

/**
 * Credit-based flow control between a sender and one actor, as Flink's network stack does within one
 * process: the sender may only send while it holds credits, and the receiver grants one back per message
 * it has handled. With initial credits ≤ the target's mailbox capacity (and no other senders to it), the
 * mailbox can never overflow: at most `initialCredits` messages are ever in flight. When credits run out
 * the sender stops pulling from upstream — that is the backpressure.
 *
 * @example
 * const channel = new CreditChannel(worker, worker.mailboxCapacity)
 * const pump = () => { while (queue.length > 0 && channel.trySend(queue[0])) queue.shift() }
 * channel.onCredit(pump)
 * pump()
 * // in the worker's receive, after handling a message: channel.grant()
 */
export class CreditChannel<M> {
  private available: number
  private readonly listeners = new Set<() => void>()

  constructor(
    readonly target: ActorRef<M>,
    initialCredits: number,
  ) {
    if (!Number.isInteger(initialCredits) || initialCredits < 0) {
      throw new ConfigError('initialCredits', initialCredits, 'a whole number ≥ 0')
    }
    this.available = initialCredits
  }

  get credits(): number {
    return this.available
  }

  /**
   * Spends one credit and tells the target. Returns false, sending nothing, when no credit is left.
   * True means the message left the channel: if the target has stopped it became a dead letter.
   *
   * @example
   * if (!channel.trySend(batch)) source.pause()
   */
  trySend(message: M): boolean {
    if (this.available === 0) return false
    this.available--
    this.target.tell(message)
    return true
  }

  /**
   * Returns `n` credits, called by the receiver once it has handled messages, and wakes the listeners.
   *
   * @example
   * receive: (batch) => { handle(batch); channel.grant() }
   */
  grant(n = 1): void {
    if (!Number.isInteger(n) || n < 1) throw new ConfigError('n', n, 'a whole number of credits ≥ 1')
    this.available += n
    for (const listener of this.listeners) listener()
  }

  /**
   * Calls `listener` after every grant; returns the function that unsubscribes it.
   *
   * @example
   * const off = channel.onCredit(() => source.resume())
   * off()
   */
  onCredit(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }
}

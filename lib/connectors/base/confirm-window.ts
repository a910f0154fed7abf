/**
 * The messages a sink sent and the broker has not yet confirmed (RabbitMQ publisher confirms, STOMP
 * receipts) or could not send yet, numbered by a per-connection sequence that starts at 1, as AMQP's
 * confirm delivery tags do. Confirms may come singly, out of order, or cumulatively (`multiple`); the
 * unconfirmed messages are kept so that they can be sent again on a new connection (at-least-once). Waiters learn when
 * everything is confirmed (a checkpoint barrier) or when the window has room again (backpressure).
 *
 * @example
 * const window = new ConfirmWindow<Publish>()
 * const seq = window.add(message)         // then send it with that number, if connected
 * channel.on('ack', ({ deliveryTag, multiple }) => window.confirm(deliveryTag, multiple))
 * await window.whenEmpty()                // on the barrier
 */
export class ConfirmWindow<M> {
  private entries: Array<M | undefined> = []
  private head = 0
  /** Sequence number of `entries[head]`. */
  private base = 1
  private outstanding = 0
  private emptyWaiters: Array<{ resolve(): void; reject(error: Error): void }> = []
  private roomWaiters: Array<{ below: number; resolve(): void; reject(error: Error): void }> = []
  private failure: Error | undefined

  /** Sent and not yet confirmed. */
  get size(): number {
    return this.outstanding
  }

  /** Records a message to send (it is sent now if connected, else after the next connection); returns its sequence number on this connection. */
  add(message: M): number {
    this.entries.push(message)
    this.outstanding++
    return this.base + this.entries.length - 1 - this.head
  }

  /** The broker confirmed `seq` (and with `multiple` every earlier one). Unknown numbers are ignored. */
  confirm(seq: number, multiple: boolean): void {
    const last = this.base + this.entries.length - this.head - 1
    if (seq < this.base || seq > last) return
    if (multiple) {
      for (let i = this.head; i <= seq - this.base + this.head; i++) {
        if (this.entries[i] !== undefined) {
          this.entries[i] = undefined
          this.outstanding--
        }
      }
    } else {
      const i = seq - this.base + this.head
      if (this.entries[i] === undefined) return
      this.entries[i] = undefined
      this.outstanding--
    }
    while (this.head < this.entries.length && this.entries[this.head] === undefined) {
      this.head++
      this.base++
    }
    if (this.head === this.entries.length) {
      this.entries = []
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head)
      this.head = 0
    }
    this.wake()
  }

  /** The message numbered `seq`, if it is still unconfirmed. */
  get(seq: number): M | undefined {
    return seq < this.base ? undefined : this.entries[seq - this.base + this.head]
  }

  /**
   * A new connection is up: returns every unconfirmed message, oldest first, to send on it in this
   * order — they are numbered 1, 2, … there, and later `add`s continue after them. Messages added while
   * there was no connection are among them. They stay unconfirmed, so waiters keep waiting for them.
   */
  rewind(): readonly M[] {
    const rest: M[] = []
    for (let i = this.head; i < this.entries.length; i++) {
      const m = this.entries[i]
      if (m !== undefined) rest.push(m)
    }
    this.entries = rest.slice()
    this.head = 0
    this.base = 1
    return rest
  }

  /** Resolves when nothing is unconfirmed. */
  whenEmpty(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.outstanding === 0) return Promise.resolve()
    return new Promise((resolve, reject) => this.emptyWaiters.push({ resolve, reject }))
  }

  /** Resolves when fewer than `below` messages are unconfirmed. */
  whenBelow(below: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.outstanding < below) return Promise.resolve()
    return new Promise((resolve, reject) => this.roomWaiters.push({ below, resolve, reject }))
  }

  /** Rejects every waiter, now and later, with `error`. */
  fail(error: Error): void {
    this.failure ??= error
    for (const w of this.emptyWaiters.splice(0)) w.reject(this.failure)
    for (const w of this.roomWaiters.splice(0)) w.reject(this.failure)
  }

  private wake(): void {
    if (this.outstanding === 0 && this.emptyWaiters.length > 0) for (const w of this.emptyWaiters.splice(0)) w.resolve()
    if (this.roomWaiters.length > 0) {
      const waiting = this.roomWaiters
      this.roomWaiters = []
      for (const w of waiting) {
        if (this.outstanding < w.below) w.resolve()
        else this.roomWaiters.push(w)
      }
    }
  }
}

import { ConfigError } from '../errors.js'
import { RingBuffer } from './ring-buffer.js'

// Storage starts small and doubles up to the capacity, so thousands of idle actors with the default
// capacity do not each hold a 1024-slot array.
const INITIAL_SLOTS = 16

/**
 * A FIFO mailbox that holds at most `capacity` messages; `offer` refuses instead of growing past it,
 * which is what turns a slow consumer into backpressure (or a dead letter) rather than unbounded memory.
 *
 * @example
 * const mailbox = new BoundedMailbox<string>(2)
 * mailbox.offer('a'); mailbox.offer('b')
 * mailbox.offer('c') // false: full
 * mailbox.poll()     // 'a'
 */
export class BoundedMailbox<M> {
  readonly capacity: number
  private readonly ring: RingBuffer<M>

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new ConfigError('capacity', capacity, 'a whole number of at least 1')
    }
    this.capacity = capacity
    this.ring = new RingBuffer<M>(Math.min(capacity, INITIAL_SLOTS))
  }

  get size(): number {
    return this.ring.size
  }

  get isFull(): boolean {
    return this.ring.size >= this.capacity
  }

  /**
   * Appends a message; returns false, keeping nothing, when the mailbox is full.
   *
   * @example
   * if (!mailbox.offer(message)) deadLetters.next(message)
   */
  offer(message: M): boolean {
    if (this.ring.size >= this.capacity) return false
    this.ring.push(message)
    return true
  }

  /**
   * The oldest message, left in the mailbox; undefined when empty.
   *
   * @example
   * if (mailbox.peek()?.type === 'record') take(mailbox.poll()!)
   */
  peek(): M | undefined {
    return this.ring.peek()
  }

  /**
   * Removes and returns the oldest message, or undefined when empty. Check `size` first when
   * `undefined` is itself a valid message.
   *
   * @example
   * while (mailbox.size > 0) handle(mailbox.poll()!)
   */
  poll(): M | undefined {
    return this.ring.shift()
  }
}

/**
 * A growable FIFO over a power-of-two array: O(1) push and shift without `Array#shift`'s copying, and
 * no allocation per item once grown. The actor runtime's mailboxes and run queue, and the actor source's buffer.
 *
 * @example
 * const ring = new RingBuffer<number>()
 * ring.push(1); ring.push(2)
 * ring.shift() // 1
 */
export class RingBuffer<T> {
  private slots: Array<T | undefined>
  private head = 0
  private length = 0
  private mask: number

  constructor(initialSlots = 16) {
    let slots = 1
    while (slots < initialSlots) slots *= 2
    this.slots = new Array<T | undefined>(slots)
    this.mask = slots - 1
  }

  get size(): number {
    return this.length
  }

  push(item: T): void {
    if (this.length === this.slots.length) this.grow()
    this.slots[(this.head + this.length) & this.mask] = item
    this.length++
  }

  /** The oldest item, left in place; undefined when empty. */
  peek(): T | undefined {
    return this.length === 0 ? undefined : this.slots[this.head]
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined
    const item = this.slots[this.head]
    // Clear the slot so a handled message is not kept alive by the buffer.
    this.slots[this.head] = undefined
    this.head = (this.head + 1) & this.mask
    this.length--
    return item
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.slots.length * 2)
    for (let i = 0; i < this.length; i++) next[i] = this.slots[(this.head + i) & this.mask]
    this.slots = next
    this.head = 0
    this.mask = next.length - 1
  }
}

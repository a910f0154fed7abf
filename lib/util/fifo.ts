/**
 * A first-in, first-out queue on an array with a moving head: O(1) push and shift without
 * `Array.prototype.shift`'s copying, compacted once the taken part dominates. Readers of push-based
 * clients keep delivered, not yet emitted messages in it; the async wait operator its waiting requests.
 *
 * @example
 * const q = new Fifo<number>(); q.push(1); q.push(2)
 * q.shift() // 1
 * q.size    // 1
 */
export class Fifo<T> {
  private items: Array<T | undefined> = []
  private head = 0

  get size(): number {
    return this.items.length - this.head
  }

  push(item: T): void {
    this.items.push(item)
  }

  /** The oldest item without taking it, or undefined when empty. */
  peek(): T | undefined {
    return this.head === this.items.length ? undefined : this.items[this.head]
  }

  /** The oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head === this.items.length) {
      this.items.length = 0
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  clear(): void {
    this.items = []
    this.head = 0
  }
}

/**
 * The decoded records of a TCP server reader, oldest first, in one power-of-two array that keeps its
 * slots: a record costs one store in and one load out (appending to a fresh array per read chunk cost
 * an allocation per growth step and garbage per chunk, about a fifth of the source's CPU). The reader's
 * own class, so its element accesses see this source's records only.
 *
 * Bounds: it grows (doubling) to the most records ever waiting at once, which the reader bounds
 * (`maxBufferedRecords` plus what one read of each connection brings), and keeps that size.
 *
 * @example
 * const ring = new RecordRing<number>()
 * ring.push(1); ring.push(2)
 * ring.emitTo((v) => console.log(v), 10) // 1, 2; returns 2
 */
export class RecordRing<T> {
  private slots: Array<T | undefined> = new Array(1024)
  private mask = 1023
  private head = 0
  private count = 0

  get size(): number {
    return this.count
  }

  push(record: T): void {
    if (this.count === this.slots.length) this.grow()
    this.slots[(this.head + this.count) & this.mask] = record
    this.count++
  }

  /**
   * Hands at most `max` records, oldest first, to `output.collect`, clearing their slots (a taken record
   * is not kept alive here); returns how many. A record whose `collect` throws counts as taken.
   */
  emitTo(output: { collect(value: T): void }, max: number): number {
    const n = Math.min(max, this.count)
    const { slots, mask } = this
    let at = this.head
    let taken = 0
    try {
      while (taken < n) {
        const record = slots[at] as T
        slots[at] = undefined
        at = (at + 1) & mask
        taken++
        output.collect(record)
      }
    } finally {
      this.head = at
      this.count -= taken
    }
    return taken
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.slots.length * 2)
    for (let i = 0; i < this.count; i++) next[i] = this.slots[(this.head + i) & this.mask]
    this.slots = next
    this.head = 0
    this.mask = next.length - 1
  }
}

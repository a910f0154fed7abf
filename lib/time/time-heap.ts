/**
 * A binary min-heap of timestamps (plain numbers, no object per entry): the ordering under the timer
 * heap and the window-end index, which keep what is due at each time in maps of their own.
 *
 * @example
 * const times = new TimeHeap(); times.push(30); times.push(10); times.peek() // 10
 */
export class TimeHeap {
  private readonly h: number[] = []

  get length(): number {
    return this.h.length
  }

  /** The smallest time; undefined when empty. */
  peek(): number | undefined {
    return this.h[0]
  }

  push(time: number): void {
    const h = this.h
    let i = h.length
    h.push(time)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (h[parent]! <= time) break
      h[i] = h[parent]!
      i = parent
    }
    h[i] = time
  }

  /** Removes and returns the smallest time; undefined when empty. */
  pop(): number | undefined {
    const h = this.h
    const top = h[0]
    const last = h.pop()
    const n = h.length
    if (n === 0 || last === undefined) return top
    let i = 0
    for (;;) {
      let child = 2 * i + 1
      if (child >= n) break
      if (child + 1 < n && h[child + 1]! < h[child]!) child++
      if (h[child]! >= last) break
      h[i] = h[child]!
      i = child
    }
    h[i] = last
    return top
  }

  clear(): void {
    this.h.length = 0
  }
}

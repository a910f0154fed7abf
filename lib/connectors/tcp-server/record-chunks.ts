/** Chunk arrays kept for reuse at most: enough for the chunks of a few connections in flight. */
const SPARE_CHUNKS = 8
/** Emptied chunks at the queue's head before it is cut off, when it does not run dry. */
const COMPACT_AFTER = 64

/**
 * The decoded records of a TCP server reader, oldest first, held as the chunks the connections' reads
 * decoded: a read appends its records to one array (`add`), `seal` queues it whole, and `emitTo` hands
 * records out of the oldest chunk. A record costs one store in and one load out, with no index
 * arithmetic, capacity check or clearing store per record (a ring of slots had all three); an emptied
 * chunk is cleared with one `fill` and kept for a later read, so steady reading allocates no arrays
 * (a fresh array per read cost an allocation per growth step and garbage per chunk, about a fifth of the
 * source's CPU).
 *
 * Bounds: `size` counts the records of the sealed chunks exactly, which is what the reader bounds
 * (`maxBufferedRecords`); at most {@link SPARE_CHUNKS} emptied arrays are kept.
 *
 * @example
 * const chunks = new RecordChunks<number>()
 * chunks.add(1); chunks.add(2); chunks.seal() // 2
 * chunks.emitTo({ collect: (v) => console.log(v) }, 10) // 1, 2; returns 2
 */
export class RecordChunks<T> {
  /** Records of the sealed chunks not yet emitted. */
  private count = 0
  /** The chunk the current read appends to, and how many records it has. */
  private filling: Array<T | undefined> = []
  private filled = 0
  /** Sealed chunks, oldest first, from `first`; `ends[i]` is how many records `queue[i]` has. */
  private readonly queue: Array<Array<T | undefined> | undefined> = []
  private readonly ends: number[] = []
  private first = 0
  /** Records of the oldest chunk already emitted. */
  private at = 0
  private readonly spare: Array<Array<T | undefined>> = []

  /** Records held in sealed chunks. */
  get size(): number {
    return this.count
  }

  /** Appends a record to the chunk being filled; it is not emitted before {@link seal}. */
  add(record: T): void {
    this.filling[this.filled++] = record
  }

  /** Queues the chunk being filled (when it has records) and returns how many records it had. */
  seal(): number {
    const n = this.filled
    if (n === 0) return 0
    this.queue.push(this.filling)
    this.ends.push(n)
    this.count += n
    this.filling = this.spare.pop() ?? []
    this.filled = 0
    return n
  }

  /**
   * Hands at most `max` records, oldest first, to `output.collect`; returns how many. A record whose
   * `collect` throws counts as taken. An emptied chunk lets go of its records before it is reused.
   */
  emitTo(output: { collect(value: T): void }, max: number): number {
    let taken = 0
    while (taken < max && this.count > 0) {
      const chunk = this.queue[this.first]!
      const end = this.ends[this.first]!
      const start = this.at
      const stop = Math.min(end, start + (max - taken))
      let i = start
      try {
        while (i < stop) output.collect(chunk[i++] as T)
      } finally {
        taken += i - start
        this.count -= i - start
        this.at = i
        if (i === end) this.retire(chunk, end)
      }
    }
    return taken
  }

  /** Drops the oldest chunk, emptied, from the queue and keeps its array for a later read. */
  private retire(chunk: Array<T | undefined>, end: number): void {
    this.queue[this.first] = undefined
    this.first++
    this.at = 0
    if (this.first === this.queue.length || this.first >= COMPACT_AFTER) {
      // reading never waits for the queue to run dry: the taken head is cut off now and then
      this.queue.splice(0, this.first)
      this.ends.splice(0, this.first)
      this.first = 0
    }
    if (this.spare.length < SPARE_CHUNKS) {
      chunk.fill(undefined, 0, end)
      this.spare.push(chunk)
    }
  }
}

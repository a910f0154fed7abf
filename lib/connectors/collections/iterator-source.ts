import type { InputStatus, Source, SourceOutput, SourceReader } from '../../runtime/source.js'

/** Position in an iterable: how many elements were emitted. */
export interface IteratorSplit {
  emitted: number
}

/**
 * Emits the elements of a synchronous iterable (a generator, a Set, …) from one subtask. Given a
 * function that makes the iterable, a restore makes it again and skips what was emitted before the
 * checkpoint (exactly-once for deterministic iterables); given an iterable, it cannot rewind and is
 * at-most-once across a restore.
 *
 * @example
 * env.fromSource(new IteratorSource(function* () { yield 1; yield 2 }))
 */
export class IteratorSource<T> implements Source<T, IteratorSplit> {
  readonly name = 'iterator'
  readonly bounded = true
  readonly maxParallelism = 1

  constructor(readonly iterable: Iterable<T> | (() => Iterable<T>)) {}

  createReader(_context: unknown, restored?: IteratorSplit[]): SourceReader<T, IteratorSplit> {
    const iterable = typeof this.iterable === 'function' ? this.iterable() : this.iterable
    return new IteratorReader(
      iterable[Symbol.iterator](),
      typeof this.iterable === 'function' ? (restored?.[0]?.emitted ?? 0) : 0,
    )
  }
}

class IteratorReader<T> implements SourceReader<T, IteratorSplit> {
  private emitted = 0

  constructor(
    private readonly iterator: Iterator<T>,
    private skip: number,
  ) {}

  start(): void {
    while (this.skip > 0) {
      if (this.iterator.next().done) break
      this.skip--
      this.emitted++
    }
  }

  pollNext(output: SourceOutput<T>): InputStatus {
    const step = this.iterator.next()
    if (step.done) return 'end'
    this.emitted++
    output.collect(step.value)
    return 'more'
  }

  isAvailable(): Promise<void> {
    return Promise.resolve()
  }

  snapshotState(): IteratorSplit[] {
    return [{ emitted: this.emitted }]
  }

  close(): void {
    this.iterator.return?.()
  }
}

import type { InputStatus, Source, SourceOutput, SourceReader } from '../../runtime/source.js'

const RUN = 64

/** Position in a collection: the index of the next element. */
export interface CollectionSplit {
  next: number
}

/**
 * Emits the elements of an array in order, from one subtask (Flink's fromCollection). Its position
 * is the index of the next element, so a restored job resumes exactly where its checkpoint was.
 *
 * @example
 * env.fromSource(new CollectionSource([1, 2, 3]))
 */
export class CollectionSource<T> implements Source<T, CollectionSplit> {
  readonly name = 'collection'
  readonly bounded = true
  readonly maxParallelism = 1

  constructor(readonly items: readonly T[]) {}

  createReader(_context: unknown, restored?: CollectionSplit[]): SourceReader<T, CollectionSplit> {
    return new CollectionReader(this.items, restored?.[0]?.next ?? 0)
  }
}

class CollectionReader<T> implements SourceReader<T, CollectionSplit> {
  constructor(
    private readonly items: readonly T[],
    private next: number,
  ) {}

  start(): void {}

  /** Emits a short run of elements per call: the runtime checks for backpressure between calls. */
  pollNext(output: SourceOutput<T>): InputStatus {
    const items = this.items
    const end = Math.min(items.length, this.next + RUN)
    while (this.next < end) output.collect(items[this.next++]!)
    return this.next < items.length ? 'more' : 'end'
  }

  isAvailable(): Promise<void> {
    return Promise.resolve()
  }

  snapshotState(): CollectionSplit[] {
    return [{ next: this.next }]
  }

  close(): void {}
}

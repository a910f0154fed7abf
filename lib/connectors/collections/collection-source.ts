import type { InputStatus, Source, SourceOutput, SourceReader } from '../../runtime/source.js'

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
  constructor(private readonly items: readonly T[], private next: number) {}

  start(): void {}

  pollNext(output: SourceOutput<T>): InputStatus {
    if (this.next >= this.items.length) return 'end'
    output.collect(this.items[this.next++]!)
    return this.next < this.items.length ? 'more' : 'end'
  }

  isAvailable(): Promise<void> {
    return Promise.resolve()
  }

  snapshotState(): CollectionSplit[] {
    return [{ next: this.next }]
  }

  close(): void {}
}

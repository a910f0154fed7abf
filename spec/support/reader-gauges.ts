import type { Source, SourceReader, SourceReaderContext } from '../../lib/runtime/source.js'
import { sharedSlots } from './shared-flags.js'

/** What a test reads of the readers {@link watchReaders} watches, from any thread. */
export interface ReaderGauges<G extends string> {
  /** The readers made so far, over every thread (a restart adds one per subtask). */
  readonly count: number
  /** The gauges of the `index`-th reader made (a negative index counts from the last), as last recorded. */
  at(index: number): Readonly<Record<G, number>>
}

/**
 * Records `gauges` of every reader `source` makes (whole numbers, read by the given functions) into
 * memory every thread of the test shares (`sharedSlots`), so the spec reads on the coordinator what
 * readers in worker threads showed — those of an attempt a restart ended too, whose metrics the job no
 * longer reports. Each reader records after its `start`, every `pollNext`, `snapshotState` and
 * `notifyCheckpointComplete`, and its `close`: a high-water mark read there is exact from the reader's
 * close on, and from the poll that emitted a record on for whatever arrived before that record. Readers
 * are numbered in the order they are made, over every thread. Patches `source.createReader`.
 *
 * @example
 * const readers = watchReaders(source, { maxUnacknowledged: (r) => r.metrics.value('maxUnacknowledged')! })
 * env.fromSource(source); …; readers.at(0).maxUnacknowledged
 */
export function watchReaders<T, S, R extends SourceReader<T, S>, G extends string>(
  source: Source<T, S> & { createReader(context: SourceReaderContext, restored?: S[]): R },
  gauges: Readonly<Record<G, (reader: R) => number>>,
  capacity = 4,
): ReaderGauges<G> {
  const names = Object.keys(gauges) as G[]
  // slot 0: the readers made; then each reader's gauges, in the order of `names`
  const slots = sharedSlots(1 + capacity * names.length)
  const create = source.createReader.bind(source) as (context: SourceReaderContext, restored?: S[]) => R
  source.createReader = (context: SourceReaderContext, restored?: S[]): R => {
    const reader = create(context, restored)
    const index = Atomics.add(slots, 0, 1)
    if (index >= capacity) throw new Error(`watchReaders: more than ${capacity} readers`)
    const record = (): void => {
      names.forEach((name, k) => void Atomics.store(slots, 1 + index * names.length + k, gauges[name](reader)))
    }
    reader.start = recording(reader.start.bind(reader), record)
    reader.pollNext = recording(reader.pollNext.bind(reader), record)
    reader.snapshotState = recording(reader.snapshotState.bind(reader), record)
    if (reader.notifyCheckpointComplete !== undefined)
      reader.notifyCheckpointComplete = recording(reader.notifyCheckpointComplete.bind(reader), record)
    reader.close = recording(reader.close.bind(reader), record)
    return reader
  }
  return {
    get count() {
      return Atomics.load(slots, 0)
    },
    at(index) {
      const count = Atomics.load(slots, 0)
      const i = index < 0 ? count + index : index
      if (i < 0 || i >= count) throw new Error(`watchReaders: no reader ${index} of ${count}`)
      return Object.fromEntries(
        names.map((name, k) => [name, Atomics.load(slots, 1 + i * names.length + k)]),
      ) as Record<G, number>
    },
  }
}

/** `call`, then `record` once it returned or threw, and again once the promise it returned settled. */
function recording<A extends unknown[], V>(call: (...args: A) => V, record: () => void): (...args: A) => V {
  return (...args) => {
    try {
      const value = call(...args)
      return (value instanceof Promise ? value.finally(record) : value) as V
    } finally {
      record()
    }
  }
}

/** Sources from what a program already has (arrays, iterables, async iterables, Observables) and an in-process sink. */
export { CollectionSource, type CollectionSplit } from './collection-source.js'
export { SequenceSource, type SequenceSplit } from './sequence-source.js'
export { IteratorSource, type IteratorSplit } from './iterator-source.js'
export { AsyncIterableSource, type AsyncIterableOptions } from './async-iterable-source.js'
export { ObservableSource, type ObservableSourceOptions } from './observable-source.js'
export { CallbackSink } from './callback-sink.js'

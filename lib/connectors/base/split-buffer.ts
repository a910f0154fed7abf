/**
 * The fetched and not yet emitted elements of one split (a Kafka partition, a Kinesis shard), in the
 * chunks the fetcher delivered them; {@link SplitReaderBase} hands them out one at a time. A connector
 * extends it with what it tracks per split (fetch position, stop offset, its fetcher).
 *
 * @example
 * class OwnedPartition extends SplitBuffer<RawKafkaMessage> { fetchOffset = 0 }
 */
export class SplitBuffer<E> {
  readonly chunks: E[][] = []
  /** Index of the next element to emit in `chunks[0]`. */
  head = 0
  /** Elements in `chunks` from `head` on. */
  buffered = 0
  /** In the reader's ready queue. */
  queued = false

  constructor(
    /** The split's id: the key of its watermark generator. */
    readonly key: string,
  ) {}
}

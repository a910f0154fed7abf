import type { RawKafkaMessage } from './kafka-internals.js'

/** One owned partition: its buffered records and where fetching stands. */
export class OwnedPartition {
  readonly chunks: RawKafkaMessage[][] = []
  head = 0
  buffered = 0
  queued = false
  fetchDone = false

  constructor(
    readonly key: string,
    readonly topic: string,
    readonly partition: number,
    public fetchOffset: number,
    readonly stopOffset: number | undefined,
  ) {}

  /** The offset of the next record to emit: the first buffered one, else the next to fetch. */
  get position(): number {
    return this.buffered > 0 ? Number(this.chunks[0]![this.head]!.offset) : this.fetchOffset
  }

  get finished(): boolean {
    return this.fetchDone && this.buffered === 0
  }
}

import { SplitBuffer } from '../base/split-buffer.js'
import type { RawKafkaMessage } from './kafka-internals.js'

/** One owned partition: its buffered records and where fetching stands. */
export class OwnedPartition extends SplitBuffer<RawKafkaMessage> {
  fetchDone = false

  constructor(
    key: string,
    readonly topic: string,
    readonly partition: number,
    public fetchOffset: number,
    readonly stopOffset: number | undefined,
  ) {
    super(key)
  }

  /** The offset of the next record to emit: the first buffered one, else the next to fetch. */
  get position(): number {
    return this.buffered > 0 ? Number(this.chunks[0]![this.head]!.offset) : this.fetchOffset
  }

  get finished(): boolean {
    return this.fetchDone && this.buffered === 0
  }
}

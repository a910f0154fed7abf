import type { Key } from '../state/key-groups.js'
import { type ChannelElement, newBatch, type RecordBatch, returnBatchTo } from './record-batch.js'

/** Released batches a writer keeps for reuse at most: more would only wait (credits bound those in flight). */
const SPARE_BATCHES = 4

/** Sends one channel's elements to the receiver; true when sent. */
export type ChannelSend = (element: ChannelElement) => void

/**
 * The sending end of one channel (one upstream subtask to one downstream subtask): fills a batch, and
 * sends an element only while it holds a credit from the receiver (Flink's credit-based flow control).
 * Without credit, full batches and control elements wait here in order, and the channel reports itself
 * blocked so that its subtask stops producing: this is the only backpressure in the engine.
 *
 * @example
 * const ch = new ChannelWriter(512, 4, false, (el) => target.tell({ t: 'input', channel: 3, element: el }))
 * ch.add(record, undefined, undefined, 0) // buffered; sent as part of a batch of 512, or on flush()
 */
export class ChannelWriter {
  private buffer: RecordBatch
  /** Records in the open batch (its arrays are allocated at full size up front). */
  private count = 0
  private readonly waiting: ChannelElement[] = []
  /** Records sitting in this end: the open batch and batches waiting for credit. */
  bufferedRecords = 0
  /** Full batches their receivers released (same thread only), filled again before a new one is made. */
  private readonly spare: RecordBatch[] = []
  private readonly takeBack = (batch: RecordBatch): void => {
    if (this.spare.length < SPARE_BATCHES) this.spare.push(batch)
  }

  /**
   * `blockage` is shared by all channels of a subtask: its count of blocked channels, so the subtask
   * checks for backpressure in O(1) per record.
   */
  constructor(
    private readonly batchSize: number,
    private credits: number,
    private readonly keyed: boolean,
    private readonly send: ChannelSend,
    private readonly blockage: { blockedChannels: number } = { blockedChannels: 0 },
  ) {
    this.buffer = newBatch(keyed, batchSize)
  }

  /** No credit is left and something is waiting for one. */
  get blocked(): boolean {
    return this.waiting.length > 0
  }

  add(value: unknown, timestamp: number | undefined, key: Key | undefined, keyGroup: number): void {
    const batch = this.buffer
    const n = this.count++
    batch.values[n] = value
    if (timestamp !== undefined) {
      if (batch.timestamps === undefined)
        batch.timestamps = new Array<number | undefined>(this.batchSize).fill(undefined)
      batch.timestamps[n] = timestamp
    } else if (batch.timestamps !== undefined) batch.timestamps[n] = undefined // a reused batch's old one
    if (this.keyed) {
      batch.keys![n] = key!
      batch.keyGroups![n] = keyGroup
    }
    this.bufferedRecords++
    if (n + 1 >= this.batchSize) this.flush()
  }

  /** Closes the open batch (if any) and sends or queues it. */
  flush(): void {
    const count = this.count
    if (count === 0) return
    const batch = this.buffer
    if (count < this.batchSize) {
      batch.values.length = count
      if (batch.timestamps !== undefined) batch.timestamps.length = count
      if (batch.keys !== undefined) batch.keys.length = count
      if (batch.keyGroups !== undefined) batch.keyGroups.length = count
    }
    this.count = 0
    // Only full batches come back: a partial one's arrays were cut to its records.
    if (count === this.batchSize) returnBatchTo(batch, this.takeBack)
    this.buffer = this.spare.pop() ?? newBatch(this.keyed, this.batchSize)
    this.enqueue({ kind: 'batch', batch })
  }

  /** Sends a control element after everything added before it. */
  control(element: ChannelElement): void {
    this.flush()
    this.enqueue(element)
  }

  /**
   * Unaligned checkpoints: closes the open batch, then sends `element` at once, ahead of everything
   * waiting for credit and without a credit of its own (the receiver keeps a slot for it). Returns the
   * elements it overtook: they are in flight for the checkpoint, and still sent afterwards.
   */
  overtake(element: ChannelElement): ChannelElement[] {
    this.flush()
    const overtaken = [...this.waiting]
    this.send(element)
    return overtaken
  }

  /** Restore of an unaligned checkpoint: elements that were in flight are sent first. */
  resend(elements: readonly ChannelElement[]): void {
    if (elements.length === 0) return
    const wasBlocked = this.waiting.length > 0
    this.waiting.unshift(...elements)
    for (const e of elements) if (e.kind === 'batch') this.bufferedRecords += e.batch.values.length
    if (!wasBlocked) this.blockage.blockedChannels++
    this.grant(0)
  }

  /** The receiver returned credits: send what waited for them. */
  grant(n: number): void {
    this.credits += n
    if (this.waiting.length === 0) return
    while (this.credits > 0 && this.waiting.length > 0) this.transmit(this.waiting.shift()!)
    if (this.waiting.length === 0) this.blockage.blockedChannels--
  }

  private enqueue(element: ChannelElement): void {
    if (this.credits > 0 && this.waiting.length === 0) this.transmit(element)
    else if (this.waiting.push(element) === 1) this.blockage.blockedChannels++
  }

  private transmit(element: ChannelElement): void {
    this.credits--
    if (element.kind === 'batch') this.bufferedRecords -= element.batch.values.length
    this.send(element)
  }
}

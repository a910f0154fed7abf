import type { ChannelElement } from './record-batch.js'

/**
 * The receiving end of a subtask's input channels (Flink's InputGate): a queue per channel, handed out
 * round-robin across the channels that have data, and the count of consumed elements per channel
 * that are owed back to the senders as credits.
 *
 * @example
 * gate.enqueue(2, element); const next = gate.poll() // { channel: 2, element }
 */
export class InputGate {
  private readonly queues: ChannelElement[][]
  private readonly heads: number[]
  private readonly consumed: number[]
  private readonly listed: boolean[]
  /** Channels held back while barriers align: their elements stay queued. */
  private readonly blocked: boolean[]
  private readonly available: number[] = []
  private availableHead = 0
  /** Elements at the head of each queue that came from a checkpoint, not a sender: no credit is owed for them. */
  private readonly uncredited: number[]
  /** Records waiting in the queues now, and the most there ever were. */
  queuedRecords = 0
  maxQueuedRecords = 0

  constructor(readonly channels: number) {
    this.queues = Array.from({ length: channels }, () => [])
    this.heads = new Array<number>(channels).fill(0)
    this.consumed = new Array<number>(channels).fill(0)
    this.listed = new Array<boolean>(channels).fill(false)
    this.blocked = new Array<boolean>(channels).fill(false)
    this.uncredited = new Array<number>(channels).fill(0)
  }

  /** Everything queued on each channel now (unaligned checkpoints store it as in-flight data). */
  queued(): ChannelElement[][] {
    return this.queues.map((queue, c) => queue.slice(this.heads[c]))
  }

  /** Restore of an unaligned checkpoint: in-flight elements go first, and owe no credit. */
  prepend(channel: number, elements: readonly ChannelElement[]): void {
    if (elements.length === 0) return
    const queue = this.queues[channel]!
    queue.splice(0, this.heads[channel]!, ...elements)
    this.heads[channel] = 0
    this.uncredited[channel]! += elements.length
    for (const e of elements) if (e.kind === 'batch') this.queuedRecords += e.batch.values.length
    if (!this.listed[channel] && !this.blocked[channel]) {
      this.listed[channel] = true
      this.available.push(channel)
    }
  }

  /** Stops handing out a channel's elements until {@link unblockAll} (barrier alignment). */
  block(channel: number): void {
    this.blocked[channel] = true
  }

  unblockAll(): void {
    for (let c = 0; c < this.channels; c++) {
      if (!this.blocked[c]) continue
      this.blocked[c] = false
      if (!this.listed[c] && this.heads[c]! < this.queues[c]!.length) {
        this.listed[c] = true
        this.available.push(c)
      }
    }
  }

  enqueue(channel: number, element: ChannelElement): void {
    this.queues[channel]!.push(element)
    if (element.kind === 'batch') {
      this.queuedRecords += element.batch.values.length
      if (this.queuedRecords > this.maxQueuedRecords) this.maxQueuedRecords = this.queuedRecords
    }
    if (!this.listed[channel] && !this.blocked[channel]) {
      this.listed[channel] = true
      this.available.push(channel)
    }
  }

  /** Whether some channel may have an element to hand out (a blocked one is skipped by `poll`). */
  get hasData(): boolean {
    while (this.availableHead < this.available.length && this.blocked[this.available[this.availableHead]!]) {
      this.listed[this.available[this.availableHead++]!] = false
    }
    return this.availableHead < this.available.length
  }

  /** The next element of the next channel with data, or undefined. The channel of the last element is in `lastChannel`. */
  poll(): ChannelElement | undefined {
    let channel: number
    for (;;) {
      if (this.availableHead >= this.available.length) return undefined
      channel = this.available[this.availableHead++]!
      if (!this.blocked[channel]) break
      this.listed[channel] = false
    }
    if (this.availableHead > 1024 && this.availableHead * 2 > this.available.length) {
      this.available.splice(0, this.availableHead)
      this.availableHead = 0
    }
    const queue = this.queues[channel]!
    const element = queue[this.heads[channel]!]!
    queue[this.heads[channel]!] = undefined as unknown as ChannelElement
    if (++this.heads[channel]! === queue.length) {
      queue.length = 0
      this.heads[channel] = 0
      this.listed[channel] = false
    } else {
      this.available.push(channel)
    }
    if (this.uncredited[channel]! > 0) this.uncredited[channel]!--
    else this.consumed[channel]!++
    if (element.kind === 'batch') this.queuedRecords -= element.batch.values.length
    this.lastChannel = channel
    return element
  }

  lastChannel = -1

  /** Hands the owed credits to `send`, per channel, and clears them. */
  returnCredits(send: (channel: number, credits: number) => void): void {
    for (let c = 0; c < this.channels; c++) {
      const n = this.consumed[c]!
      if (n > 0) {
        this.consumed[c] = 0
        send(c, n)
      }
    }
  }
}

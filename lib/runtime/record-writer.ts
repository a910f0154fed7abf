import type { Partitioning } from './transformation.js'
import { UserFunctionError } from '../errors.js'
import { type Key, keyGroupOf, subtaskForKeyGroup } from '../state/key-groups.js'
import type { ChannelWriter } from './channel-writer.js'
import type { ChannelElement, ControlElement } from './record-batch.js'
import type { Output } from './output.js'
import type { OutputTag } from './output-tag.js'

/**
 * The subtasks of the downstream operator that upstream subtask `sender` has a channel to, by
 * partitioning. Forward pairs equal indexes; rescale pairs local groups; the rest connect to all. Global
 * connects to all too, as Flink's GlobalPartitioner: its records go to subtask 0 only, but every
 * downstream subtask needs a channel for end of input, watermarks and barriers.
 *
 * @example
 * connectedTargets({ kind: 'rescale' }, 1, 2, 4) // [2, 3]
 */
export function connectedTargets(
  partitioning: Partitioning,
  sender: number,
  senders: number,
  receivers: number,
): number[] {
  switch (partitioning.kind) {
    case 'forward':
      return [sender]
    case 'rescale': {
      if (senders >= receivers) return [Math.floor((sender * receivers) / senders)]
      const from = Math.floor((sender * receivers) / senders)
      const to = Math.floor(((sender + 1) * receivers) / senders)
      return Array.from({ length: to - from }, (_, i) => from + i)
    }
    default:
      return Array.from({ length: receivers }, (_, i) => i)
  }
}

const FORWARD = 0
const HASH = 1
const ROUND_ROBIN = 2
const BROADCAST = 3
const GLOBAL = 4

/**
 * The output of an operator towards one edge that leaves its subtask: picks the channel(s) for each
 * record by the edge's partitioning (a key's key group decides for keyBy) and adds it to their batch.
 *
 * @example
 * const writer = new RecordWriter({ kind: 'hash', keySelector: (o) => o.user }, channels, 128, 'orders')
 */
export class RecordWriter implements Output<unknown> {
  private readonly mode: number
  private readonly keySelector: ((value: unknown) => Key) | undefined
  private readonly connected: ChannelWriter[]
  /** Hash partitioning: the channel of each key group, looked up instead of computed per record. */
  private readonly channelOfGroup: ReadonlyArray<ChannelWriter | undefined>
  private next = 0

  /** `channels[i]` is the channel to downstream subtask i, where this subtask is connected to it. */
  constructor(
    partitioning: Partitioning,
    private readonly channels: ReadonlyArray<ChannelWriter | undefined>,
    private readonly maxParallelism: number,
    private readonly senderName: string,
    private readonly senderSubtask: number,
  ) {
    this.connected = channels.filter((c): c is ChannelWriter => c !== undefined)
    this.keySelector = partitioning.kind === 'hash' ? partitioning.keySelector : undefined
    this.channelOfGroup =
      partitioning.kind === 'hash'
        ? Array.from(
            { length: maxParallelism },
            (_, group) => channels[subtaskForKeyGroup(maxParallelism, channels.length, group)],
          )
        : []
    this.mode =
      partitioning.kind === 'hash'
        ? HASH
        : partitioning.kind === 'broadcast'
          ? BROADCAST
          : partitioning.kind === 'global'
            ? GLOBAL
            : this.connected.length === 1
              ? FORWARD
              : ROUND_ROBIN
  }

  collect(value: unknown, timestamp: number | undefined): void {
    switch (this.mode) {
      case FORWARD:
        this.connected[0]!.add(value, timestamp, undefined, 0)
        return
      case HASH: {
        let key: Key
        try {
          key = this.keySelector!(value)
        } catch (error) {
          throw new UserFunctionError(`keyBy after ${this.senderName}`, this.senderSubtask, value, error)
        }
        const keyGroup = keyGroupOf(key, this.maxParallelism)
        this.channelOfGroup[keyGroup]!.add(value, timestamp, key, keyGroup)
        return
      }
      case GLOBAL:
        this.channels[0]!.add(value, timestamp, undefined, 0)
        return
      case ROUND_ROBIN:
        this.connected[this.next]!.add(value, timestamp, undefined, 0)
        if (++this.next === this.connected.length) this.next = 0
        return
      default:
        for (const channel of this.connected) channel.add(value, timestamp, undefined, 0)
    }
  }

  emitWatermark(watermark: number): void {
    for (const channel of this.connected) channel.control({ kind: 'watermark', timestamp: watermark })
  }

  emitWatermarkStatus(idle: boolean): void {
    for (const channel of this.connected) channel.control({ kind: 'watermark-status', idle })
  }

  emitSide<X>(_tag: OutputTag<X>, _value: X): void {
    throw new Error('side outputs are routed by the producing operator')
  }

  /** Sends an unaligned barrier ahead of everything waiting; returns the overtaken elements per target subtask. */
  overtake(element: ControlElement): Array<ChannelElement[] | undefined> {
    return this.channels.map((channel) => channel?.overtake(element))
  }

  /** Re-sends restored in-flight elements per target subtask, before anything else. */
  resend(perTarget: ReadonlyArray<ChannelElement[] | null | undefined>): void {
    perTarget.forEach((elements, target) => {
      if (elements !== undefined && elements !== null) this.channels[target]?.resend(elements)
    })
  }

  /** The receiver on downstream subtask `target` returned `n` credits. */
  grant(target: number, n: number): void {
    this.channels[target]!.grant(n)
  }

  /** Sends a control element (end of input, a barrier) on every channel, after what was added before. */
  broadcast(element: ControlElement): void {
    for (const channel of this.connected) channel.control(element)
  }

  flush(): void {
    for (const channel of this.connected) channel.flush()
  }

  get blocked(): boolean {
    for (const channel of this.connected) if (channel.blocked) return true
    return false
  }

  get bufferedRecords(): number {
    let n = 0
    for (const channel of this.connected) n += channel.bufferedRecords
    return n
  }
}

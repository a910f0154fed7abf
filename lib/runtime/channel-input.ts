import type { KeyContext } from '../state/key-context.js'
import type { InputGate } from './input-gate.js'
import type { OperatorInput } from './operator-input.js'
import { type RecordBatch, releaseBatch } from './record-batch.js'
import { handleUserError } from './stream-operator.js'
import type { SubtaskCheckpointer } from './subtask-checkpointer.js'
import type { InputHost, InputTurn, SubtaskInput } from './subtask-input.js'
import type { WatermarkValve } from './watermark-valve.js'

/**
 * A subtask's input from its channels: takes elements from the input gate, feeds batches to the chain
 * head, watermarks to the valve, barriers to the checkpointer, and returns the credits it consumed.
 *
 * @example
 * const input = new ChannelInput(gate, valve, heads, keyContext, () => checkpointer, sendCredit, host)
 * input.processInput(4096, performance.now() + 5)
 */
export class ChannelInput implements SubtaskInput {
  /** Per channel: its end of input has arrived. */
  readonly ended: boolean[]
  private endedChannels = 0

  constructor(
    private readonly gate: InputGate,
    private readonly valve: WatermarkValve,
    /** Per channel, the input of the head operator it feeds. */
    private readonly heads: readonly OperatorInput<unknown>[],
    private readonly keyContext: KeyContext | undefined,
    private readonly checkpointer: () => SubtaskCheckpointer | undefined,
    private readonly sendCredit: (channel: number, n: number) => void,
    private readonly host: InputHost,
    /** Whether a processed batch goes back to its writer: not with unaligned checkpoints, which may keep queued batches as in-flight data. */
    private readonly releasesBatches = false,
  ) {
    this.ended = new Array<boolean>(heads.length).fill(false)
  }

  get hasMore(): boolean {
    return this.gate.hasData
  }

  processInput(budget: number, deadline: number): InputTurn {
    let left = budget
    let allEnded = false
    while (left > 0 && !this.host.blocked()) {
      if (performance.now() > deadline) {
        this.host.overran()
        break
      }
      const element = this.gate.poll()
      if (element === undefined) break
      const channel = this.gate.lastChannel
      switch (element.kind) {
        case 'batch':
          this.processBatch(channel, element.batch)
          left -= element.batch.values.length
          if (this.releasesBatches) releaseBatch(element.batch)
          this.host.checkPauses()
          break
        case 'watermark':
          this.valve.inputWatermark(channel, element.timestamp)
          left--
          break
        case 'watermark-status':
          this.valve.inputStatus(channel, element.idle)
          break
        case 'barrier':
          this.checkpointer()?.onBarrier(channel, element)
          break
        case 'end-of-input':
          if (this.ended[channel]) break
          this.ended[channel] = true
          this.valve.inputEnded(channel)
          this.checkpointer()?.onChannelEnded()
          allEnded = ++this.endedChannels === this.gate.channels
          break
      }
      if (allEnded) break
    }
    this.gate.returnCredits(this.sendCredit)
    return allEnded ? 'end' : 'more'
  }

  /**
   * Feeds a batch to the chain head. The head operator is called directly, and one try block covers
   * the batch: after a failure the error policy applies to that record and the loop goes on after it.
   */
  private processBatch(channel: number, batch: RecordBatch): void {
    const input = this.heads[channel]!
    const op = input.operator
    const second = input.input === 2
    const counter = input.counter
    const { values, timestamps, keys } = batch
    const keyGroups = batch.keyGroups
    const ks = keys !== undefined ? this.keyContext : undefined
    const n = values.length
    let i = 0
    while (i < n) {
      try {
        for (; i < n; i++) {
          if (ks !== undefined) ks.set(keys![i]!, keyGroups![i]!)
          counter.countedIn++
          if (second) op.processRecord2(values[i], timestamps === undefined ? undefined : timestamps[i])
          else op.processRecord(values[i], timestamps === undefined ? undefined : timestamps[i])
        }
      } catch (error) {
        handleUserError(op, values[i], error)
        i++
      }
    }
  }
}

import type { OperatorOutput } from './operator-output.js'
import type { SourceOutput } from './source.js'

/**
 * Presents the source node's output to a reader, and turns its idleness into watermark status.
 *
 * @example
 * const output = new SourceOutputAdapter(chain.sourceOutputs.get(head.id)!); reader.pollNext(output)
 */
export class SourceOutputAdapter implements SourceOutput<unknown> {
  private idle = false

  constructor(private readonly output: OperatorOutput<unknown>) {}

  /**
   * Records emitted so far: the subtask's turn ends after a budget of records, not of polls. The
   * source node's output already counts them (its records out), so the record path counts once.
   */
  get emitted(): number {
    return this.output.metrics.countedOut
  }

  collect(value: unknown, timestamp?: number): void {
    if (this.idle) {
      this.idle = false
      this.output.emitWatermarkStatus(false)
    }
    this.output.collect(value, timestamp)
  }

  emitWatermark(watermark: number): void {
    this.output.emitWatermark(watermark)
  }

  markIdle(): void {
    if (this.idle) return
    this.idle = true
    this.output.emitWatermarkStatus(true)
  }
}

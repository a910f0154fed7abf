import { MetricGroup } from './metric-group.js'
import { DEAD_LETTERS } from './output-tag.js'
import type { Sink, SinkWriter } from './sink.js'
import { type OperatorStateEntries, StreamOperator } from './stream-operator.js'

/**
 * Hands records to a sink's writer. It has no output; at the end of input and on close the writer
 * flushes, so a clean finish writes everything.
 *
 * @example
 * new SinkOperator(printSink())
 */
export class SinkOperator<T> extends StreamOperator<T, never> {
  writer!: SinkWriter<T>
  private restored: readonly unknown[] | undefined
  private readonly metrics: MetricGroup

  constructor(readonly sink: Sink<T>) {
    super()
    this.metrics = new MetricGroup(sink.name)
  }

  override open(): void {
    this.writer = this.sink.createWriter(
      {
        subtask: this.subtask,
        parallelism: this.setupInfo.parallelism,
        processingTime: this.setupInfo.processingTime,
        logger: this.setupInfo.logger,
        metrics: this.metrics,
        deadLetter: (letter) => this.output.emitSide(DEAD_LETTERS, letter, undefined),
      },
      this.restored,
    )
  }

  override connectorMetrics(): MetricGroup {
    return this.metrics
  }

  /** The writer's counters, labelled with the sink's name; none for a writer that counts nothing. */
  override detailedMetrics(): Readonly<Record<string, unknown>> | undefined {
    const values = this.metrics.values()
    return Object.keys(values).length === 0 ? undefined : { connector: this.metrics.connector, ...values }
  }

  protected override restoreOperatorState(split: readonly unknown[]): void {
    this.restored = split
  }

  override snapshotOperatorState(
    checkpointId: number,
  ): OperatorStateEntries | Promise<OperatorStateEntries> | undefined {
    const state = this.writer.snapshotState?.(checkpointId) ?? this.writer.flush?.(false)
    if (state instanceof Promise) return state.then((split) => ({ split: Array.isArray(split) ? split : [] }))
    return { split: Array.isArray(state) ? state : [] }
  }

  override writesWhileSnapshotting(): boolean {
    return this.writer.writesWhileSnapshotting === true
  }

  override notifyCheckpointComplete(checkpointId: number): void | Promise<void> {
    return this.writer?.notifyCheckpointComplete?.(checkpointId)
  }

  override endInput(): void {
    this.writer?.endInput?.()
  }

  processRecord(value: T, timestamp: number | undefined): void {
    this.writer.write(value, timestamp)
  }

  override processWatermark(): void {}

  /** A promise while the writer asks for no more records. */
  override ready(): Promise<void> | undefined {
    return this.writer.ready?.()
  }

  override async abort(): Promise<void> {
    super.abort()
    await this.writer?.close()
  }

  override async close(): Promise<void> {
    super.close()
    await this.writer?.flush?.(true)
    await this.writer?.close()
  }
}

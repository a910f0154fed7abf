import type { Sink, SinkWriter } from './sink.js'
import { StreamOperator } from './stream-operator.js'

/**
 * Hands records to a sink's writer. It has no output; at the end of input and on close the writer
 * flushes, so a clean finish writes everything.
 *
 * @example
 * new SinkOperator(printSink())
 */
export class SinkOperator<T> extends StreamOperator<T, never> {
  writer!: SinkWriter<T>

  constructor(readonly sink: Sink<T>) {
    super()
  }

  override open(): void {
    this.writer = this.sink.createWriter({ subtask: this.subtask, parallelism: this.setupInfo.parallelism, processingTime: this.setupInfo.processingTime })
  }

  processRecord(value: T, timestamp: number | undefined): void {
    this.writer.write(value, timestamp)
  }

  override processWatermark(): void {}

  /** A promise while the writer asks for no more records. */
  ready(): Promise<void> | undefined {
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

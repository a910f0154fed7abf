import type { SinkWriter } from '../../runtime/sink.js'
import type { RecordCallback } from './callback-bridge.js'

/**
 * The writer of a {@link CallbackSink} subtask on the thread of its function: calls it with each record.
 * A class rather than a closure per job: the chain that inlines `write` then sees the same function
 * in every job, where a closure per job is a new call target (and one more context) each time.
 *
 * @example
 * const writer = new CallbackWriter<number>((v, subtask) => console.log(subtask, v), 0)
 * writer.write(42, undefined) // logs 0 42
 */
export class CallbackWriter<T> implements SinkWriter<T> {
  constructor(
    private readonly onRecord: RecordCallback<T>,
    private readonly subtask: number,
  ) {}

  write(value: T, timestamp: number | undefined): void {
    this.onRecord(value, this.subtask, timestamp)
  }

  close(): void {}
}

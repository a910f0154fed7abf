import type { Sink, SinkWriter } from '../../runtime/sink.js'

/**
 * Hands every record to a function in this process: what `toObservable()` and `executeAndCollect()`
 * are built on, and handy in tests.
 *
 * @example
 * const seen: number[] = []
 * stream.sinkTo(new CallbackSink((v: number) => seen.push(v)))
 */
export class CallbackSink<T> implements Sink<T> {
  readonly name = 'callback'
  readonly guarantee = 'at-least-once'

  constructor(private readonly onRecord: (value: T, subtask: number, timestamp: number | undefined) => void) {}

  createWriter(context: { subtask: number }): SinkWriter<T> {
    const subtask = context.subtask
    return { write: (value, timestamp) => this.onRecord(value, subtask, timestamp), close() {} }
  }
}

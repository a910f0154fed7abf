import type { Sink, SinkWriter } from '../../lib/runtime/sink.js'

/**
 * Keeps every record in `received` and makes the job wait `delayMs` after every `every` records: a sink
 * slower than its source, for backpressure tests.
 *
 * @example
 * const sink = new SlowSink<string>(10, 2)
 * stream.sinkTo(sink) // … sink.received
 */
export class SlowSink<T> implements Sink<T> {
  readonly name = 'slow'
  readonly guarantee = 'at-least-once'
  readonly received: T[] = []

  constructor(
    private readonly every: number,
    private readonly delayMs: number,
  ) {}

  createWriter(): SinkWriter<T> {
    let since = 0
    return {
      write: (value) => {
        this.received.push(value)
        since++
      },
      ready: () => {
        if (since < this.every) return undefined
        since = 0
        return new Promise<void>((resolve) => setTimeout(resolve, this.delayMs))
      },
      close() {},
    }
  }
}

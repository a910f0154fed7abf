import type { Sink, SinkWriter } from '../../lib/runtime/sink.js'
import { SharedList } from './shared-list.js'

/**
 * Keeps what `keep` makes of every record in `received` and makes the job wait `delayMs` after every
 * `every` records: a sink slower than its source, for backpressure tests. `received` is a
 * {@link SharedList}, in memory every thread of the test shares, so what a writer in a worker thread
 * keeps is what the spec reads on the coordinator; `keep` turns a record into JSON the list can hold
 * (a message's payload as text, an entry's number).
 *
 * @example
 * const sink = new SlowSink<MqttMessage, number>(50, 5, (m) => Number(m.payload.toString()))
 * stream.sinkTo(sink) // … sink.received.length, sink.received.values()
 */
export class SlowSink<T, K = T> implements Sink<T> {
  readonly name = 'slow'
  readonly guarantee = 'at-least-once'
  readonly received: SharedList<K>

  constructor(
    private readonly every: number,
    private readonly delayMs: number,
    private readonly keep: (value: T) => K = (value) => value as unknown as K,
    capacity?: number,
  ) {
    this.received = new SharedList<K>(capacity)
  }

  createWriter(): SinkWriter<T> {
    let since = 0
    return {
      write: (value) => {
        this.received.push(this.keep(value))
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

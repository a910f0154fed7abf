import type { Sink } from '../lib/runtime/sink.js'

/**
 * The sink of the connector cases: counts the records and sums a number read from each (the checksum
 * every contender of a case must agree on), and settles `reached` at the `n`-th record.
 *
 * @example
 * const sink = new CountingSink((m: Buffer) => Number(m.toString()), 1_000)
 * env.fromSource(source).sinkTo(sink)
 * await sink.reached
 */
export class CountingSink<T> implements Sink<T> {
  readonly name = 'count'
  readonly guarantee = 'at-least-once' as const
  output = 0
  checksum = 0
  /** Settles when `n` records were counted (never, without `n`). */
  readonly reached: Promise<void>
  private markReached!: () => void

  constructor(
    private readonly numberOf: (record: T) => number,
    private readonly n = Number.POSITIVE_INFINITY,
  ) {
    this.reached = new Promise((resolve) => {
      this.markReached = resolve
    })
  }

  createWriter() {
    return {
      write: (record: T) => {
        this.checksum += this.numberOf(record)
        if (++this.output === this.n) this.markReached()
      },
      close() {},
    }
  }
}

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import type { Sink, SinkWriter } from '../../lib/runtime/sink.js'
import { sharedRecord } from '../support/shared-flags.js'

const LIMIT = 10

/** What the writer reports, in memory every thread of the test shares (on workers the writer is in one). */
type Counts = { written: number; episodes: number; maxWritesAfterNotReady: number }

/**
 * A writer that is not ready once LIMIT records wait; its buffer drains a macrotask later. It counts
 * the writes it receives after the one that made it not ready, per episode.
 */
class SlowWriter implements SinkWriter<number> {
  pending = 0
  writesAfterNotReady = 0
  private draining: Promise<void> | undefined

  constructor(private readonly counts: Counts) {}

  write(): void {
    this.counts.written++
    if (this.pending >= LIMIT) {
      this.writesAfterNotReady++
      this.counts.maxWritesAfterNotReady = Math.max(this.counts.maxWritesAfterNotReady, this.writesAfterNotReady)
    }
    this.pending++
  }

  ready(): Promise<void> | undefined {
    if (this.pending < LIMIT) return undefined
    this.draining ??= new Promise<void>((resolve) =>
      setTimeout(() => {
        this.counts.episodes++
        this.pending = 0
        this.writesAfterNotReady = 0
        this.draining = undefined
        resolve()
      }, 0),
    )
    return this.draining
  }

  close(): void {}
}

for (const batchSize of [1, 16, 64]) {
  test(`a sink writer gets at most batchSize − 1 writes after the one that made it not ready (batchSize ${batchSize})`, async () => {
    const writer = sharedRecord({ written: 0, episodes: 0, maxWritesAfterNotReady: 0 })
    const sink: Sink<number> = { name: 'slow', guarantee: 'at-least-once', createWriter: () => new SlowWriter(writer) }
    const env = StreamEnvironment.create({ logLevel: 'silent', batchSize })
    // not chained: records reach the sink in batches over a channel, the case the bound is about
    env.fromSequence(1, 5_000).sinkTo(sink, { chaining: 'never' })
    await env.execute('sink ready bound')
    assert.is(writer.written, 5_000)
    assert.ok(writer.episodes > 10, `the writer asked for pauses (${writer.episodes} times)`)
    assert.ok(
      writer.maxWritesAfterNotReady <= batchSize - 1,
      `${writer.maxWritesAfterNotReady} writes after not ready, bound ${batchSize - 1}`,
    )
    if (batchSize > LIMIT) assert.ok(writer.maxWritesAfterNotReady > 0, 'the bound is reached in practice, not avoided')
  })
}

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { resolveConfig } from '../../lib/api/environment-config.js'
import { ConfigError } from '../../lib/errors.js'
import { map, StreamEnvironment } from '../../lib/index.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { keyBy } from '../../lib/operators/key-by.js'
import type { InputStatus, Source, SourceOutput, SourceReader } from '../../lib/runtime/source.js'
import { sharedRecord } from '../support/shared-flags.js'
import { settlesWithin } from '../support/wait-for.js'

const N = 20_000

/** The records the busy source handed out, and how many it had when the first crossed the keyBy (-1 before). */
type Counts = { emitted: number; atFirst: number }

/** Always has more, until the count is reached: a busy source that never idles (and so never flushes for that reason). */
class BusyReader implements SourceReader<number> {
  constructor(private readonly counts: Counts) {}
  start(): void {}
  pollNext(output: SourceOutput<number>): InputStatus {
    output.collect(this.counts.emitted++)
    return this.counts.emitted < N ? 'more' : 'end'
  }
  isAvailable(): Promise<void> {
    return Promise.resolve()
  }
  snapshotState(): number[] {
    return []
  }
  close(): void {}
}

/**
 * How many records the busy source had handed out when the first one arrived across a keyBy. The counts
 * are in memory every thread of the test shares: on workers the source and the receiving side run there.
 */
async function emittedBeforeFirstArrival(config: { bufferTimeoutMs?: number }): Promise<number> {
  const counts = sharedRecord({ emitted: 0, atFirst: -1 })
  const source: Source<number> = { name: 'busy', bounded: true, createReader: () => new BusyReader(counts) }
  const env = StreamEnvironment.create({ logLevel: 'silent', ...config })
  env
    .fromSource(source)
    .pipe(
      keyBy((x: number) => x % 10),
      map((x: number) => {
        if (counts.atFirst < 0) counts.atFirst = counts.emitted
        return x
      }),
    )
    .sinkTo(new CallbackSink<number>(() => {}))
  await settlesWithin(env.execute('busy'), { timeoutMs: 30_000 })
  return counts.atFirst
}

test('bufferTimeoutMs 0 sends every record at once, even from a source that is never idle', async () => {
  const atFirst = await emittedBeforeFirstArrival({ bufferTimeoutMs: 0 })
  // Four credits of one-record batches: the source blocks after a handful and the sink runs.
  assert.ok(atFirst > 0 && atFirst < 32, `first record arrived after ${atFirst} were emitted`)
  const batched = await emittedBeforeFirstArrival({ bufferTimeoutMs: 100 })
  assert.ok(batched >= 512, `with batching, the first batch is full (${batched})`)
})

test('bufferTimeoutMs defaults to 5 ms and must be a whole number of at least 0', () => {
  assert.is(resolveConfig({}).bufferTimeoutMs, 5)
  assert.is(resolveConfig({ bufferTimeoutMs: 0 }).bufferTimeoutMs, 0)
  for (const bad of [-1, 1.5, '5', Number.NaN]) {
    assert.throws(
      () => resolveConfig({ bufferTimeoutMs: bad as number }),
      (e: unknown) => e instanceof ConfigError && e.message.includes('bufferTimeoutMs'),
    )
  }
})

test.run()

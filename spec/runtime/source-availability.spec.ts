import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/index.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { keyBy } from '../../lib/operators/key-by.js'
import type { InputStatus, Source, SourceOutput, SourceReader } from '../../lib/runtime/source.js'
import { sharedSlots } from '../support/shared-flags.js'
import { settlesWithin } from '../support/wait-for.js'

const N = 60_000

/**
 * Per subtask, the most `isAvailable()` waits a reader had open at once, in memory every thread of the
 * test shares (on workers the readers run in them); -1 for a subtask whose reader was never made.
 */
type MaxWaiting = Int32Array

/** Hands out one record, then has nothing until the next turn of the event loop (a paced source). */
class TricklingReader implements SourceReader<number> {
  waiting = 0
  private ready = true
  private next: number

  constructor(
    private readonly subtask: number,
    private readonly parallelism: number,
    private readonly maxWaiting: MaxWaiting,
  ) {
    this.next = subtask
    Atomics.store(maxWaiting, subtask, 0)
  }

  start(): void {}

  pollNext(output: SourceOutput<number>): InputStatus {
    if (this.next >= N) return 'end'
    if (!this.ready) return 'nothing-available'
    output.collect(this.next)
    this.next += this.parallelism
    this.ready = false
    return 'nothing-available'
  }

  isAvailable(): Promise<void> {
    const waiting = ++this.waiting
    if (waiting > Atomics.load(this.maxWaiting, this.subtask)) Atomics.store(this.maxWaiting, this.subtask, waiting)
    return new Promise((resolve) =>
      setImmediate(() => {
        this.waiting--
        this.ready = true
        resolve()
      }),
    )
  }

  snapshotState(): number[] {
    return []
  }

  close(): void {}
}

test('a source that often has nothing available waits once at a time, and its job finishes', async () => {
  const maxWaiting = sharedSlots(2, [-1, -1])
  const source: Source<number> = {
    name: 'trickle',
    bounded: true,
    createReader: (ctx) => new TricklingReader(ctx.subtask, ctx.parallelism, maxWaiting),
  }
  let received = 0
  const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent' })
  env
    .fromSource(source)
    .pipe(keyBy((x: number) => x % 100))
    .sinkTo(new CallbackSink<number>(() => void received++))
  // Before the fix, credits returned by the receivers were refused by a mailbox full of availability
  // wake-ups, and the job stalled with nothing scheduled.
  await settlesWithin(env.execute('trickle'), { timeoutMs: 30_000, description: 'the job finished' })
  assert.is(received, N)
  assert.equal([...maxWaiting], [1, 1], 'each of the two readers waited once at a time')
})

test.run()

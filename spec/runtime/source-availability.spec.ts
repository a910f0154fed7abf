import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/index.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { keyBy } from '../../lib/operators/key-by.js'
import type { InputStatus, Source, SourceOutput, SourceReader } from '../../lib/runtime/source.js'
import { settlesWithin } from '../support/wait-for.js'

const N = 60_000

/** Hands out one record, then has nothing until the next turn of the event loop (a paced source). */
class TricklingReader implements SourceReader<number> {
  waiting = 0
  maxWaiting = 0
  private ready = true
  private next: number

  constructor(
    subtask: number,
    private readonly parallelism: number,
  ) {
    this.next = subtask
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
    this.maxWaiting = Math.max(this.maxWaiting, ++this.waiting)
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
  const readers: TricklingReader[] = []
  const source: Source<number> = {
    name: 'trickle',
    bounded: true,
    createReader: (ctx) => {
      const reader = new TricklingReader(ctx.subtask, ctx.parallelism)
      readers.push(reader)
      return reader
    },
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
  assert.is(readers.length, 2)
  for (const reader of readers) assert.is(reader.maxWaiting, 1)
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment, map, keyBy, type Sink } from '../../lib/index.js'
import { sharedSlots } from '../support/shared-flags.js'

/** The shared slots of the test: records the producer emitted, records the sinks took, the most in between. */
const PRODUCED = 0
const CONSUMED = 1
const MOST = 2

/**
 * A sink that pauses 1 ms every `pauseEvery` records and, before it takes each record, measures the
 * records in flight (`slots[PRODUCED] − slots[CONSUMED]`, in memory every thread shares): between two
 * records a sink takes that number only grows, so measured just before each one it catches every peak,
 * on one thread or across worker threads.
 */
function slowSink(pauseEvery: number, slots: Int32Array): Sink<number> {
  return {
    name: 'slow',
    guarantee: 'at-least-once',
    createWriter: () => {
      let sinceReady = 0
      return {
        write: () => {
          const consumed = Atomics.load(slots, CONSUMED)
          raise(slots, MOST, Atomics.load(slots, PRODUCED) - consumed)
          Atomics.add(slots, CONSUMED, 1)
          sinceReady++
        },
        ready: () => {
          if (sinceReady < pauseEvery) return undefined
          sinceReady = 0
          return new Promise((resolve) => setTimeout(resolve, 1))
        },
        close() {},
      }
    },
  }
}

/** Raises `slots[index]` to `value` when it is below, whichever thread raced it. */
function raise(slots: Int32Array, index: number, value: number): void {
  for (let seen = Atomics.load(slots, index); seen < value; ) {
    const was = Atomics.compareExchange(slots, index, seen, value)
    if (was === seen) return
    seen = was
  }
}

test('a slow sink backpressures a fast source: records in flight stay within the credits', async () => {
  const batchSize = 64
  const channelCredits = 2
  const inFlight = sharedSlots(3)
  const env = StreamEnvironment.create({ batchSize, channelCredits, parallelism: 2, logLevel: 'silent' })
  env
    .fromSequence(1, 100_000)
    .pipe(
      map(
        (x: number) => {
          Atomics.add(inFlight, PRODUCED, 1)
          return x
        },
        { uid: 'produce' },
      ),
      keyBy((x: number) => x % 13),
    )
    .sinkTo(slowSink(256, inFlight), { uid: 'slow' })
  const result = await env.execute()
  const channels = 2 * 2 // 2 senders × 2 receivers
  const capacity = channels * channelCredits * batchSize
  const most = Atomics.load(inFlight, MOST)
  // what the receivers may hold, plus at most an open and an overflowing batch per sending channel
  assert.ok(most <= capacity + channels * 2 * batchSize, `in flight ${most} > bound`)
  assert.ok(most >= capacity / 2, `the credits were used (at most ${most} in flight)`)
  assert.is(Atomics.load(inFlight, CONSUMED), 100_000, 'every record was measured')
  for (const s of result.metrics.subtasks) assert.ok(s.maxQueuedRecords <= s.inputCapacity)
  const sources = result.metrics.subtasks.filter((s) => s.vertex.startsWith('sequence'))
  assert.ok(
    sources.some((s) => s.backpressuredMs > 0),
    'the source was held back',
  )
  assert.is(result.metrics.operators.find((o) => o.operator === 'slow')!.recordsIn, 100_000)
})

test.run()

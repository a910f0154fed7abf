import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment, map, keyBy, type Sink } from '../../lib/index.js'

function slowSink(pauseEvery: number): Sink<number> {
  return {
    name: 'slow',
    guarantee: 'at-least-once',
    createWriter: () => {
      let written = 0
      let sinceReady = 0
      return {
        write: () => {
          written++
          sinceReady++
        },
        ready: () => {
          if (sinceReady < pauseEvery) return undefined
          sinceReady = 0
          return new Promise((resolve) => setTimeout(resolve, 1))
        },
        close: () => void written,
      }
    },
  }
}

test('a slow sink backpressures a fast source: records in flight stay within the credits', async () => {
  const batchSize = 64
  const channelCredits = 2
  const env = StreamEnvironment.create({ batchSize, channelCredits, parallelism: 2, logLevel: 'silent' })
  env
    .fromSequence(1, 100_000)
    .pipe(
      map((x: number) => x, { uid: 'produce' }),
      keyBy((x: number) => x % 13),
    )
    .sinkTo(slowSink(256), { uid: 'slow' })
  const job = env.executeAsync()
  let samples = 0
  let maxInFlight = 0
  const sampler = setInterval(() => {
    const m = job.metrics()
    const produced = m.operators.find((o) => o.operator === 'produce')?.recordsOut ?? 0
    const consumed = m.operators.find((o) => o.operator === 'slow')?.recordsIn ?? 0
    maxInFlight = Math.max(maxInFlight, produced - consumed)
    for (const s of m.subtasks)
      assert.ok(
        s.queuedRecords <= s.inputCapacity,
        `${s.vertex}#${s.subtask} queued ${s.queuedRecords} > ${s.inputCapacity}`,
      )
    samples++
  }, 2)
  const result = await job.result
  clearInterval(sampler)
  const channels = 2 * 2 // 2 senders × 2 receivers
  const capacity = channels * channelCredits * batchSize
  // what the receivers may hold, plus at most an open and an overflowing batch per sending channel
  assert.ok(maxInFlight <= capacity + channels * 2 * batchSize, `in flight ${maxInFlight} > bound`)
  assert.ok(samples > 5, 'sampled while running')
  for (const s of result.metrics.subtasks) assert.ok(s.maxQueuedRecords <= s.inputCapacity)
  const sources = result.metrics.subtasks.filter((s) => s.vertex.startsWith('sequence'))
  assert.ok(
    sources.some((s) => s.backpressuredMs > 0),
    'the source was held back',
  )
  assert.is(result.metrics.operators.find((o) => o.operator === 'slow')!.recordsIn, 100_000)
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/index.js'
import type { Sink } from '../../lib/runtime/sink.js'
import type { Source } from '../../lib/runtime/source.js'

/** Emits 1..n, counting what it emitted in its metric group. */
function countingSource(n: number): Source<number> {
  return {
    name: 'counting-source',
    bounded: true,
    createReader(context) {
      const emitted = context.metrics!.counter('emitted')
      let next = 1
      return {
        start() {},
        pollNext(output) {
          if (next > n) return 'end'
          output.collect(next++)
          emitted.inc()
          return next > n ? 'end' : 'more'
        },
        isAvailable: () => Promise.resolve(),
        snapshotState: () => [],
        close() {},
      }
    },
  }
}

function countingSink(): Sink<number> {
  return {
    name: 'counting-sink',
    guarantee: 'at-least-once',
    createWriter(context) {
      const written = context.metrics!.counter('written')
      let last = 0
      context.metrics!.gauge('last', () => last)
      return {
        write(value) {
          written.inc()
          last = value
        },
        close() {},
      }
    },
  }
}

test("a connector's counters reach the job's metrics, labelled with operator, subtask and connector", async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env.fromSource(countingSource(500), { uid: 'numbers' }).sinkTo(countingSink(), { uid: 'out' })
  const job = env.executeAsync()
  await job.result
  const details = job.metrics().details
  assert.equal(
    details.find((d) => d.operator === 'numbers'),
    { operator: 'numbers', subtask: 0, metrics: { connector: 'counting-source', emitted: 500 } },
  )
  assert.equal(
    details.find((d) => d.operator === 'out'),
    { operator: 'out', subtask: 0, metrics: { connector: 'counting-sink', written: 500, last: 500 } },
  )
})

test.run()

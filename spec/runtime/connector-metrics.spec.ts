import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { asyncMap, StreamEnvironment } from '../../lib/index.js'
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

test("async I/O counters reach the job's metrics, labelled with the operator's uid and the subtask", async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent', parallelism: 2 })
  env
    .fromSource(countingSource(100), { uid: 'numbers', parallelism: 1 })
    .pipe(asyncMap(async (x: number) => x * 2, { capacity: 4, uid: 'enrich' }))
    .sinkTo(countingSink(), { uid: 'out', parallelism: 1 })
  const job = env.executeAsync()
  await job.result
  const enrich = job.metrics().details.filter((d) => d.operator === 'enrich')
  assert.equal(enrich.map((d) => d.subtask).sort(), [0, 1])
  assert.is(
    enrich.reduce((n, d) => n + (d.metrics.completed as number), 0),
    100,
  )
  assert.ok(enrich.every((d) => d.metrics.capacity === 4 && d.metrics.inFlight === 0))
})

test.run()

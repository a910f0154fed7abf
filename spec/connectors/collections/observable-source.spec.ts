import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { concat, of, range, throwError } from 'rxjs'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import { createLogger } from '../../../lib/logging.js'
import { sharedRecord } from '../../support/shared-flags.js'

const EMITTED = 100_000
const BUFFER = 1_000

/**
 * Runs the flood; what the source logs about its drops is tallied in memory every thread of the test
 * shares (on the worker executor the source, and its logger, run in a worker).
 */
async function flood(overflow: 'drop-newest' | 'drop-oldest') {
  const logged = sharedRecord({ lines: 0, counted: 0, lastDropped: 0, lastOverflowMatches: false })
  const env = StreamEnvironment.create({
    logger: createLogger({
      level: 'warn',
      write: (text) => {
        const line = JSON.parse(text) as { msg: string; droppedRecords?: number; overflow?: string }
        if (!line.msg.includes('dropped')) return
        logged.lines++
        logged.counted += Number(/dropped (\d+) record/.exec(line.msg)![1])
        logged.lastDropped = line.droppedRecords ?? -1
        logged.lastOverflowMatches = line.overflow === overflow
      },
    }),
  })
  const out: number[] = []
  env
    // emits everything synchronously on subscribe, far ahead of any demand
    .fromObservable(range(1, EMITTED), { bufferSize: BUFFER, overflow })
    .sinkTo(new CallbackSink<number>((v) => out.push(v)))
  const result = await env.execute('observable flood')
  const dropped = result.metrics.details.find((d) => d.metrics.droppedRecords !== undefined)
  return { out, logged, dropped }
}

for (const overflow of ['drop-newest', 'drop-oldest'] as const) {
  test(`fromObservable ${overflow}: dropped records are counted in the job's metrics and logged with the count, rate-limited`, async () => {
    const { out, logged, dropped } = await flood(overflow)
    assert.is(out.length, BUFFER)
    assert.equal(out[0], overflow === 'drop-newest' ? 1 : EMITTED - BUFFER + 1)
    assert.is(dropped?.metrics.droppedRecords, EMITTED - BUFFER, 'the count in job.metrics().details')
    assert.ok(logged.lines >= 1 && logged.lines <= 2, `one line at the first drop, one at close: ${logged.lines}`)
    assert.is(logged.lastDropped, EMITTED - BUFFER)
    assert.ok(logged.lastOverflowMatches, `the last line names the overflow ${overflow}`)
    assert.is(logged.counted, EMITTED - BUFFER, 'the lines add up to every dropped record')
  })
}

test('an Observable that fails after some values fails the job with its message, after those values', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  const out: number[] = []
  const failing = concat(
    of(1, 2, 3),
    throwError(() => new Error('feed broke')),
  )
  env.fromObservable(failing).sinkTo(new CallbackSink<number>((v) => out.push(v)))
  try {
    await env.execute('observable failure')
    assert.unreachable('the job failed')
  } catch (error) {
    assert.match(String((error as Error).message), /observable source failed: feed broke/)
  }
  assert.equal(out, [1, 2, 3], 'the values before the failure went through')
})

test('fromObservable with the default overflow fails the job naming bufferSize when it is outrun', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env.fromObservable(range(1, EMITTED), { bufferSize: BUFFER }).sinkTo(new CallbackSink<number>(() => {}))
  try {
    await env.execute('observable overflow')
    assert.unreachable('the job failed')
  } catch (error) {
    assert.is((error as { code?: string }).code, 'ERR_SOURCE_OVERFLOW')
    assert.match(String((error as Error).message), /fromObservable\.bufferSize/)
  }
})

test.run()

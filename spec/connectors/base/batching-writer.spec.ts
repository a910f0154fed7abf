import * as assert from 'uvu/assert'
import { suite } from 'uvu'
import { BatchingWriter, type BatchingSettings } from '../../../lib/connectors/base/batching-writer.js'
import { ConnectorError, messageOf } from '../../../lib/errors.js'
import { ManualClock } from '../../time/manual-clock.js'

/** A writer whose requests a test answers one by one. */
class ToyWriter extends BatchingWriter<number, number[]> {
  readonly sent: number[][] = []
  private batch: number[] = []
  private answers: Array<{ resolve: () => void; reject: (e: Error) => void }> = []
  concurrent = 0
  maxConcurrent = 0

  constructor(clock: ManualClock, settings: Partial<BatchingSettings> = {}) {
    super(
      { subtask: 0, parallelism: 1, processingTime: clock },
      { connector: 'toy', maxBatchRecords: 3, lingerMs: 10, maxInFlightRecords: 6, flushOnBarrier: true, ...settings },
    )
  }

  /** Answers the oldest request. */
  answer(error?: Error): void {
    const next = this.answers.shift()!
    if (error === undefined) next.resolve()
    else next.reject(error)
  }

  get requestsOpen(): number {
    return this.answers.length
  }

  protected addToBatch(value: number): void {
    this.batch.push(value)
  }

  protected takeBatch(): number[] {
    const b = this.batch
    this.batch = []
    return b
  }

  protected sendBatch(batch: number[]): Promise<void> {
    this.sent.push(batch)
    this.maxConcurrent = Math.max(this.maxConcurrent, ++this.concurrent)
    return new Promise<void>((resolve, reject) => this.answers.push({ resolve, reject })).finally(
      () => void this.concurrent--,
    )
  }

  protected toFailure(error: unknown): Error {
    return new ConnectorError('ERR_SEND', `toy sink: ${messageOf(error)}`, { cause: error })
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve))

const writer = suite('batching writer')

writer('sends a full batch at once and a partial one after lingerMs on the processing-time clock', async () => {
  const clock = new ManualClock()
  const w = new ToyWriter(clock)
  for (const v of [1, 2, 3, 4]) w.write(v, undefined)
  await turn()
  assert.equal(w.sent, [[1, 2, 3]])
  clock.advanceBy(9)
  await turn()
  assert.is(w.sent.length, 1, 'the partial batch lingers')
  clock.advanceBy(1)
  w.answer()
  await turn()
  assert.equal(w.sent, [[1, 2, 3], [4]])
})

writer('sends one request at a time, in write order', async () => {
  const w = new ToyWriter(new ManualClock(), { maxBatchRecords: 1, maxInFlightRecords: 100 })
  for (const v of [1, 2, 3]) w.write(v, undefined)
  await turn()
  while (w.requestsOpen > 0) {
    w.answer()
    await turn()
  }
  assert.equal(w.sent, [[1], [2], [3]])
  assert.is(w.maxConcurrent, 1)
})

writer('with maxInFlightRequests, starts up to that many requests at once, in write order', async () => {
  const w = new ToyWriter(new ManualClock(), { maxBatchRecords: 1, maxInFlightRecords: 100, maxInFlightRequests: 2 })
  for (const v of [1, 2, 3, 4]) w.write(v, undefined)
  await turn()
  assert.equal(w.sent, [[1], [2]], 'two requests started, the third waits for a slot')
  w.answer()
  await turn()
  assert.equal(w.sent, [[1], [2], [3]])
  const flushed = w.flush()
  while (w.requestsOpen > 0) {
    w.answer()
    await turn()
  }
  await flushed
  assert.equal(w.sent, [[1], [2], [3], [4]])
  assert.is(w.maxConcurrent, 2)
  assert.is(w.inFlightRecords, 0)
})

writer('ready() holds the runtime back at maxInFlightRecords and lets it go on at half', async () => {
  const w = new ToyWriter(new ManualClock())
  for (let v = 0; v < 5; v++) w.write(v, undefined)
  assert.is(w.ready(), undefined, '5 of 6 in flight')
  w.write(5, undefined)
  const waiting = w.ready()
  assert.ok(waiting instanceof Promise, '6 of 6: wait')
  let released = false
  void waiting!.then(() => (released = true))
  await turn()
  w.answer() // [0,1,2]: 3 in flight, half of 6
  await turn()
  assert.ok(released, 'released at half')
  assert.is(w.inFlightRecords, 3)
})

writer(
  'a barrier waits until every record before it is acknowledged; without flushOnBarrier it only sends',
  async () => {
    const w = new ToyWriter(new ManualClock())
    w.write(1, undefined)
    let done = false
    const barrier = w.snapshotState().then(() => (done = true))
    await turn()
    assert.equal(w.sent, [[1]], 'the partial batch is sent on the barrier')
    assert.not.ok(done)
    w.answer()
    await barrier
    assert.is(w.inFlightRecords, 0)

    const quick = new ToyWriter(new ManualClock(), { flushOnBarrier: false })
    quick.write(1, undefined)
    await quick.snapshotState()
    assert.is(quick.inFlightRecords, 1, 'returned before the acknowledgement')
  },
)

writer('the first failure fails flush, ready and the requests after it', async () => {
  const w = new ToyWriter(new ManualClock(), { maxBatchRecords: 1 })
  w.write(1, undefined)
  w.write(2, undefined)
  await turn()
  w.answer(new Error('broker gone'))
  await turn()
  assert.equal(w.sent, [[1]], 'the request after the failed one is not sent')
  try {
    await w.flush()
    assert.unreachable('flush should fail')
  } catch (error) {
    assert.instance(error, ConnectorError)
    assert.match((error as Error).message, 'toy sink: broker gone')
  }
  await w.ready()!.then(
    () => assert.unreachable('ready should fail'),
    (error: Error) => assert.match(error.message, 'broker gone'),
  )
  await w.close()
})

writer.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/index.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import type { InputStatus, Source, SourceOutput, SourceReader } from '../../lib/runtime/source.js'
import { StreamOperator } from '../../lib/runtime/stream-operator.js'
import { sharedRecord } from '../support/shared-flags.js'

/** What the readers report, in memory every thread of the test shares (on workers a reader runs in one). */
type Report = { readers: number; early: number }

/** A reader whose start takes 100 ms and that counts any poll made before it settled. */
class SlowStartReader implements SourceReader<number> {
  started = false
  private next = 0
  constructor(private readonly report: Report) {
    report.readers++
  }
  async start(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 100))
    this.started = true
  }
  pollNext(output: SourceOutput<number>): InputStatus {
    if (!this.started) this.report.early++
    if (this.next === 5) return 'end'
    output.collect(this.next++)
    return 'more'
  }
  isAvailable(): Promise<void> {
    return Promise.resolve()
  }
  snapshotState(): number[] {
    return [this.next]
  }
  close(): void {}
}

/** A chained operator that is not ready when it opens (as a sink settling restored transactions). */
class BusyAtOpen extends StreamOperator<number, number> {
  private pending: Promise<void> | undefined
  override open(): void {
    this.pending = new Promise((resolve) => setTimeout(resolve, 5))
    void this.pending.then(() => (this.pending = undefined))
  }
  override ready(): Promise<void> | undefined {
    return this.pending
  }
  processRecord(value: number, timestamp: number | undefined): void {
    this.output.collect(value, timestamp)
  }
}

test('a source reader is not polled before its start() settles, even when a chained operator wakes the subtask', async () => {
  const report = sharedRecord({ readers: 0, early: 0 })
  const source: Source<number> = {
    name: 'slow start',
    bounded: true,
    createReader: () => new SlowStartReader(report),
  }
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  const seen: number[] = []
  env
    .fromSource(source)
    .transform('busy at open', () => new BusyAtOpen())
    .sinkTo(new CallbackSink((v: number) => seen.push(v)))
  await env.execute()
  assert.equal(seen, [0, 1, 2, 3, 4])
  assert.is(report.readers, 1, 'one reader')
  assert.is(report.early, 0, 'no poll before start settled')
})

test.run()

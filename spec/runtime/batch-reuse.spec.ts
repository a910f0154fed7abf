import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { keyBy } from '../../lib/operators/key-by.js'
import { process } from '../../lib/operators/process.js'
import { ChannelWriter } from '../../lib/runtime/channel-writer.js'
import { type ChannelElement, type RecordBatch, releaseBatch } from '../../lib/runtime/record-batch.js'
import type { InputStatus, Source, SourceOutput, SourceReader } from '../../lib/runtime/source.js'

/** A keyed writer of 3-record batches whose sent batches are collected. */
function writer(): { channel: ChannelWriter; sent: RecordBatch[] } {
  const sent: RecordBatch[] = []
  const channel = new ChannelWriter(3, 100, true, (element: ChannelElement) => {
    if (element.kind === 'batch') sent.push(element.batch)
  })
  return { channel, sent }
}

test('a released full batch is filled again by its writer, without the timestamps of its earlier records', () => {
  const { channel, sent } = writer()
  for (const v of [1, 2, 3]) channel.add(v, v * 10, `k${v}`, v)
  releaseBatch(sent[0]!)
  // the next batch was opened when the first was sent; the released one follows it
  for (const v of [4, 5, 6, 7, 8, 9]) channel.add(v, undefined, `k${v}`, v)
  assert.is(sent.length, 3)
  assert.ok(sent[1] !== sent[0])
  assert.ok(sent[2] === sent[0], 'the released batch was filled again')
  assert.equal(sent[2]!.values, [7, 8, 9])
  assert.equal(sent[2]!.keys, ['k7', 'k8', 'k9'])
  assert.equal(sent[2]!.keyGroups, [7, 8, 9])
  assert.equal([...(sent[2]!.timestamps ?? [undefined, undefined, undefined])], [undefined, undefined, undefined])
})

test('a partial batch, a batch not released and a copy from another thread are never filled again', () => {
  const { channel, sent } = writer()
  channel.add(1, undefined, 'a', 0)
  channel.flush()
  releaseBatch(sent[0]!) // partial: its arrays were cut to one record
  for (const v of [2, 3, 4]) channel.add(v, undefined, 'a', 0)
  releaseBatch(structuredClone(sent[1]!)) // what a receiver on another thread holds
  for (const v of [5, 6, 7, 8, 9, 10, 11, 12, 13]) channel.add(v, undefined, 'a', 0)
  assert.is(new Set(sent).size, 5, 'five distinct batches')
  assert.equal(
    sent.map((b) => b.values),
    [[1], [2, 3, 4], [5, 6, 7], [8, 9, 10], [11, 12, 13]],
  )
})

const N = 2_000

/** Emits 0 … N-1; even records carry their value as timestamp, odd ones none. */
class MixedReader implements SourceReader<number, never> {
  private next = 0
  start(): void {}
  pollNext(output: SourceOutput<number>): InputStatus {
    if (this.next >= N) return 'end'
    const v = this.next++
    if (v % 2 === 0) output.collect(v, v)
    else output.collect(v)
    return this.next < N ? 'more' : 'end'
  }
  isAvailable(): Promise<void> {
    return Promise.resolve()
  }
  snapshotState(): never[] {
    return []
  }
  close(): void {}
}

const mixed: Source<number, never> = { name: 'mixed', bounded: true, createReader: () => new MixedReader() }

test('records crossing a keyBy in reused batches keep their own timestamp, or none', async () => {
  const seen: [number, number | undefined][] = []
  const env = StreamEnvironment.create({ parallelism: 2, batchSize: 8, logLevel: 'silent' })
  env
    .fromSource(mixed, { parallelism: 1 })
    .pipe(
      keyBy((v: number) => v % 7),
      process<number, [number, number | undefined]>((v, ctx, out) => out.collect([v, ctx.timestamp])),
    )
    .sinkTo(new CallbackSink<[number, number | undefined]>((pair) => seen.push(pair)))
  await env.execute('batch reuse')
  assert.is(seen.length, N)
  const wrong = seen.filter(([v, ts]) => ts !== (v % 2 === 0 ? v : undefined))
  assert.equal(wrong.slice(0, 5), [], `${wrong.length} records with another record's timestamp`)
})

test.run()

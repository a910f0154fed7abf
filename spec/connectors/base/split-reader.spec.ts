import * as assert from 'uvu/assert'
import { suite } from 'uvu'
import { SplitBuffer } from '../../../lib/connectors/base/split-buffer.js'
import { SplitReaderBase } from '../../../lib/connectors/base/split-reader.js'
import { createLogger } from '../../../lib/logging.js'
import { MetricGroup } from '../../../lib/runtime/metric-group.js'
import type { SourceOutput, SourceReaderContext } from '../../../lib/runtime/source.js'
import { WatermarkStrategy } from '../../../lib/time/watermark-strategy.js'
import { ManualClock } from '../../time/manual-clock.js'

interface Element {
  readonly value: string
  readonly time: number
}

/** A reader of named splits whose chunks a test hands in, as a fetcher would. */
class ToyReader extends SplitReaderBase<string, string, SplitBuffer<Element>, Element> {
  readonly splits = new Map<string, SplitBuffer<Element>>()
  wakes = 0
  discoveries = 0
  discovery: (initial: boolean) => Promise<void> = async () => {}

  start(): void {
    this.startTimers(true)
  }

  snapshotState(): string[] {
    return [...this.splits.keys()]
  }

  add(key: string): void {
    this.splits.set(key, new SplitBuffer(key))
    this.watermarks?.addSplit(key)
  }

  fetch(key: string, chunk: Element[]): boolean {
    if (!this.hasRoom()) return false
    this.enqueue(this.splits.get(key)!, chunk)
    this.available.signal()
    return true
  }

  drop(key: string): void {
    this.dropSplit(this.splits.get(key)!)
    this.splits.delete(key)
  }

  failWith(error: Error): void {
    this.fail(error)
  }

  protected emitRecord(split: SplitBuffer<Element>, e: Element, output: SourceOutput<string>): void {
    this.collect(output, split.key, `${split.key}:${e.value}`, e.time)
  }

  protected wakeFetchers(): void {
    this.wakes++
  }

  protected discoverSplits(initial: boolean): Promise<void> {
    this.discoveries++
    return this.discovery(initial)
  }
}

function output() {
  const values: string[] = []
  const watermarks: number[] = []
  const out: SourceOutput<string> = {
    collect: (v) => void values.push(v),
    emitWatermark: (w) => void watermarks.push(w),
    markIdle: () => {},
  }
  return { values, watermarks, out }
}

function context(
  clock: ManualClock,
  logger = createLogger({ level: 'error', write: () => {} }),
  metrics = new MetricGroup('toy'),
): SourceReaderContext {
  return { subtask: 0, parallelism: 1, processingTime: clock, logger, metrics }
}

const settings = {
  connector: 'toy',
  splitName: 'split',
  maxBufferedRecords: 4,
  discoveryIntervalMs: 1_000,
  watermarks: undefined,
  watermarkIntervalMs: 200,
}

const el = (value: string, time = 0): Element => ({ value, time })

const base = suite('split reader base')

base('hands out one element at a time, rotating over the splits after each fetched chunk', () => {
  const reader = new ToyReader(context(new ManualClock()), { ...settings, maxBufferedRecords: 100 })
  reader.add('a')
  reader.add('b')
  reader.fetch('a', [el('1'), el('2')])
  reader.fetch('a', [el('3')])
  reader.fetch('b', [el('1')])
  const { values, out } = output()
  const statuses = []
  for (let i = 0; i < 5; i++) statuses.push(reader.pollNext(out))
  assert.equal(values, ['a:1', 'a:2', 'b:1', 'a:3'])
  assert.equal(statuses, ['more', 'more', 'more', 'nothing-available', 'nothing-available'])
  assert.is(reader.bufferedRecords, 0)
})

base('pauses fetching while the buffer is full and wakes the fetchers at half of it', () => {
  const metrics = new MetricGroup('toy')
  const reader = new ToyReader(context(new ManualClock(), undefined, metrics), settings)
  reader.add('a')
  assert.ok(reader.fetch('a', [el('1'), el('2'), el('3'), el('4')]))
  assert.not.ok(reader.fetch('a', [el('5')]), 'no room at the bound')
  assert.not.ok(reader.fetch('a', [el('5')]), 'still none')
  assert.is(metrics.value('fetchPauses'), 1, 'one pause, however often asked, counted in the metrics')
  assert.is(metrics.value('bufferedRecords'), 4)
  const { out } = output()
  reader.pollNext(out)
  assert.is(reader.wakes, 0, 'three buffered: above half')
  reader.pollNext(out)
  assert.is(reader.wakes, 1, 'woken at half')
  reader.pollNext(out)
  assert.is(reader.wakes, 1, 'once per pause')
})

base('a dropped split takes its buffered elements with it', () => {
  const reader = new ToyReader(context(new ManualClock()), { ...settings, maxBufferedRecords: 100 })
  reader.add('a')
  reader.add('b')
  reader.fetch('a', [el('1'), el('2')])
  reader.fetch('b', [el('1')])
  reader.drop('a')
  assert.is(reader.bufferedRecords, 1)
  const { values, out } = output()
  assert.is(reader.pollNext(out), 'nothing-available')
  assert.equal(values, ['b:1'])
})

base("emits the minimum of the splits' watermarks on the watermark ticks", async () => {
  const clock = new ManualClock()
  const reader = new ToyReader(context(clock), {
    ...settings,
    maxBufferedRecords: 100,
    watermarks: WatermarkStrategy.forMonotonousTimestamps<string>(),
  })
  reader.add('a')
  reader.add('b')
  reader.start()
  reader.fetch('a', [el('1', 1_000)])
  reader.fetch('b', [el('1', 500)])
  const { watermarks, out } = output()
  reader.pollNext(out)
  reader.pollNext(out)
  clock.advanceBy(200)
  await reader.isAvailable()
  reader.pollNext(out)
  assert.equal(watermarks, [499], 'the lagging split holds the watermark back')
  reader.drop('b')
  clock.advanceBy(200)
  reader.pollNext(out)
  assert.equal(watermarks, [499, 999], 'without it the other split leads')
  reader.close()
  assert.is(clock.scheduled, 0, 'close cancels the timers')
})

base('discovers splits periodically, one look at a time, and goes on after a failed one', async () => {
  const clock = new ManualClock()
  const warnings: string[] = []
  const logger = createLogger({ level: 'warn', write: (line) => void warnings.push(JSON.parse(line).msg) })
  const reader = new ToyReader(context(clock, logger), settings)
  let finish!: () => void
  reader.discovery = () => new Promise<void>((_, reject) => (finish = () => reject(new Error('listing failed'))))
  reader.start()
  clock.advanceBy(1_000)
  assert.is(reader.discoveries, 1)
  finish()
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(warnings, ['split discovery failed; trying again at the next interval'])
  reader.discovery = async () => {}
  clock.advanceBy(1_000)
  assert.is(reader.discoveries, 2, 'the next interval looks again')
  reader.close()
})

base('the first failure is thrown from pollNext and wakes a waiting caller', async () => {
  const reader = new ToyReader(context(new ManualClock()), settings)
  const waiting = reader.isAvailable()
  reader.failWith(new Error('broker gone'))
  reader.failWith(new Error('later'))
  await waiting
  assert.throws(() => reader.pollNext(output().out), /broker gone/)
})

base.run()

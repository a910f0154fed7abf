import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Subject, lastValueFrom, toArray } from 'rxjs'
import {
  type EmbeddedStream,
  OutputTag,
  StreamEnvironment,
  keyBy,
  map,
  process,
  ListStateDescriptor,
  type ListState,
  type ProcessFunction,
  type RuntimeContext,
  type ProcessContext,
  type Collector,
} from '../../lib/index.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { StateError } from '../../lib/errors.js'
import { runEmbedded, runEngine } from '../support/modes.js'
import { waitFor } from '../support/wait-for.js'

type Reading = { sensor: string; value: number }
const readings: Reading[] = [
  { sensor: 'a', value: 5 },
  { sensor: 'b', value: 150 },
  { sensor: 'a', value: 120 },
  { sensor: 'b', value: 7 },
]

test('process emits to a side output that a stream of the job reads', async () => {
  const high = new OutputTag<Reading>('high')
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  const normal = env.fromCollection(readings).pipe(
    process((r: Reading, ctx, out) => {
      if (r.value > 100) ctx.output(high, r)
      else out.collect(r)
    }),
  )
  const highOnes: Reading[] = []
  const normalOnes: Reading[] = []
  normal.getSideOutput(high).sinkTo(new CallbackSink((r: Reading) => void highOnes.push(r)))
  normal.sinkTo(new CallbackSink((r: Reading) => void normalOnes.push(r)))
  await env.execute()
  assert.equal(
    highOnes.map((r) => r.value),
    [150, 120],
  )
  assert.equal(
    normalOnes.map((r) => r.value),
    [5, 7],
  )
})

test('side outputs work in embedded mode through EmbeddedStream.sideOutput', async () => {
  const high = new OutputTag<Reading>('high')
  const source = new Subject<Reading>()
  const main$ = source.pipe(
    process((r: Reading, ctx, out) => (r.value > 100 ? ctx.output(high, r) : out.collect(r))),
  ) as EmbeddedStream<Reading>
  const side: Reading[] = []
  main$.sideOutput(high).subscribe((r) => side.push(r))
  const all = lastValueFrom(main$.pipe(toArray()))
  for (const r of readings) source.next(r)
  source.complete()
  assert.equal(
    (await all).map((r) => r.value),
    [5, 7],
  )
  assert.equal(
    side.map((r) => r.value),
    [150, 120],
  )
})

test('event-time timers fire per key when the watermark passes them, with the key current', async () => {
  // Timestamps from map over a process that sets them: records carry their value as event time.
  const fn = {
    processElement(_r: Reading, ctx: any) {
      ctx.timerService.registerEventTimeTimer(1000)
    },
    onTimer(ts: number, ctx: any, out: any) {
      out.collect(`${ctx.currentKey}@${ts}`)
    },
  }
  const out = await runEngine<string>(
    readings,
    { parallelism: 2 },
    keyBy((r: Reading) => r.sensor),
    process(fn),
  )
  assert.equal(out.sort(), ['a@1000', 'b@1000'])
  assert.equal(
    (
      await runEmbedded<string>(
        readings,
        keyBy((r: Reading) => r.sensor),
        process(fn),
      )
    ).sort(),
    ['a@1000', 'b@1000'],
  )
})

test('processing-time timers fire on the wall clock', async () => {
  const fired: string[] = []
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  const source = new Subject<Reading>()
  const job = env
    .fromObservable(source)
    .pipe(
      keyBy((r: Reading) => r.sensor),
      process({
        processElement(_r: Reading, ctx: any) {
          ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 20)
        },
        onTimer(_ts: number, ctx: any, out: any) {
          out.collect(`${ctx.currentKey}`)
        },
      }),
    )
    .sinkTo(new CallbackSink((s: string) => void fired.push(s)))
  const handle = env.executeAsync()
  await handle.running
  source.next(readings[0]!)
  source.next(readings[1]!)
  await waitFor(() => fired.length === 2, { description: 'two processing-time timers fired' })
  assert.equal(fired.sort(), ['a', 'b'])
  source.complete()
  await handle.result
  void job
})

test('keyed list state keeps values per key', async () => {
  class Seen implements ProcessFunction<Reading, string> {
    private seen!: ListState<number>
    open(rt: RuntimeContext) {
      this.seen = rt.getListState(new ListStateDescriptor<number>('seen'))
    }
    processElement(r: Reading, _ctx: ProcessContext, out: Collector<string>) {
      this.seen.add(r.value)
      out.collect(`${r.sensor}:${this.seen.get().join(',')}`)
    }
  }
  const out = await runEngine<string>(
    readings,
    { parallelism: 2 },
    keyBy((r: Reading) => r.sensor),
    process(new Seen()),
  )
  assert.equal(
    out.filter((s) => s.startsWith('a')),
    ['a:5', 'a:5,120'],
  )
  assert.equal(
    out.filter((s) => s.startsWith('b')),
    ['b:150', 'b:150,7'],
  )
})

test('keyed state on an unkeyed stream fails with a clear error', async () => {
  try {
    await runEngine(
      readings,
      {},
      process({
        open(rt: any) {
          rt.getState(new ListStateDescriptor('x'))
        },
        processElement() {},
      }),
    )
    assert.unreachable('should fail')
  } catch (error) {
    assert.instance(error, StateError)
    assert.match((error as Error).message, /keyBy/)
  }
})

test('map keeps the record timestamp that process set via timers', async () => {
  const out = await runEmbedded<number>(
    [1],
    keyBy(() => 'k'),
    process({
      processElement(_v: number, ctx: any) {
        ctx.timerService.registerEventTimeTimer(42)
      },
      onTimer(_ts: number, ctx: any, out: any) {
        out.collect(ctx.timestamp)
      },
    }),
    map((x: number) => x),
  )
  assert.equal(out, [42])
})

test.run()

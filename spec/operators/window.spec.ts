import { from, lastValueFrom, toArray } from 'rxjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { engineOperator } from '../../lib/api/engine-operator.js'
import type { EmbeddedStream } from '../../lib/api/embedded-stream.js'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import type { OperatorOptions } from '../../lib/runtime/transformation.js'
import type { WindowedStream, WindowFunctionOptions } from '../../lib/api/windowed-stream.js'
import { ConfigError, PipelineError, UserFunctionError } from '../../lib/errors.js'
import { aggregate } from '../../lib/operators/aggregate.js'
import { assignTimestampsAndWatermarks } from '../../lib/operators/assign-timestamps.js'
import { keyBy } from '../../lib/operators/key-by.js'
import { process } from '../../lib/operators/process.js'
import { reduce } from '../../lib/operators/reduce.js'
import { window } from '../../lib/operators/window.js'
import { OutputTag } from '../../lib/runtime/output-tag.js'
import type { AggregateFunction } from '../../lib/state/descriptors.js'
import { ValueStateDescriptor } from '../../lib/state/descriptors.js'
import { eventTimeSessionWindows } from '../../lib/windows/assigners/session.js'
import { slidingEventTimeWindows } from '../../lib/windows/assigners/sliding.js'
import { tumblingEventTimeWindows } from '../../lib/windows/assigners/tumbling.js'
import type { ProcessWindowCallback } from '../../lib/windows/process-window-function.js'
import type { TimeWindow } from '../../lib/windows/time-window.js'
import { CountTrigger } from '../../lib/windows/triggers/count-trigger.js'
import { punctuatedWatermarks } from '../windows/punctuated-watermarks.js'

interface Ev {
  key: string
  at: number
  n: number
}

const ev = (key: string, at: number, n = 1): Ev => ({ key, at, n })
const sum = (a: Ev, b: Ev): Ev => ({ key: a.key, at: Math.max(a.at, b.at), n: a.n + b.n })
/** Event time that follows each record, trailing the newest timestamp by `delay` (see punctuated-watermarks.ts). */
const eventTime = (delay = 0) => assignTimestampsAndWatermarks(punctuatedWatermarks((e: Ev) => e.at, delay))

/**
 * The shared `process` operator is typed for process functions (value, ctx, out); a process *window*
 * function (key, ctx, elements, out) goes through it at run time, but needs this cast until process.ts
 * gets an overload for it (see the report).
 */
const processWindow = <IN, OUT>(fn: ProcessWindowCallback<IN, OUT, TimeWindow>) => process<IN, OUT>(fn as never)

/** The window's [start, end) and what it holds, as a process window function reports it. */
const describeWindow = processWindow<Ev, string>((key, ctx, elements, out) =>
  out.collect(
    `${key} [${ctx.window.start},${ctx.window.end}) ${elements
      .map((e) => e.at)
      .sort((a, b) => a - b)
      .join(',')}`,
  ),
)

test('tumbling event-time windows reduce out-of-order records per key and window', async () => {
  const input = [ev('a', 1), ev('a', 12, 2), ev('a', 3, 4), ev('b', 5, 8), ev('b', 9, 32), ev('a', 25, 16)]
  const out = await lastValueFrom(
    from(input).pipe(
      eventTime(5),
      keyBy((e) => e.key),
      window(tumblingEventTimeWindows(10)),
      reduce(sum),
      toArray(),
    ),
  )
  assert.equal(
    out.map((e) => [e.key, e.n]),
    [
      ['a', 5],
      ['b', 40],
      ['a', 2],
      ['a', 16],
    ],
  )
})

test('stamps each window result with the window max timestamp', async () => {
  const out = await lastValueFrom(
    from([ev('a', 3), ev('a', 14)]).pipe(
      eventTime(),
      keyBy((e) => e.key),
      window(tumblingEventTimeWindows(10)),
      reduce(sum),
      process<Ev, number | undefined>((_e, ctx, out) => out.collect(ctx.timestamp)),
      toArray(),
    ),
  )
  assert.equal(out, [9, 19])
})

test('sliding event-time windows put each record in size / slide windows', async () => {
  const out = await lastValueFrom(
    from([ev('a', 6), ev('a', 1), ev('a', 11)]).pipe(
      eventTime(10),
      keyBy((e) => e.key),
      window(slidingEventTimeWindows(10, 5)),
      describeWindow,
      toArray(),
    ),
  )
  assert.equal(out, ['a [-5,5) 1', 'a [0,10) 1,6', 'a [5,15) 6,11', 'a [10,20) 11'])
})

test('session windows group records closer than the gap, out of order', async () => {
  const input = [ev('a', 5), ev('a', 0), ev('b', 2), ev('a', 30), ev('a', 38)]
  const out = await lastValueFrom(
    from(input).pipe(
      eventTime(10),
      keyBy((e) => e.key),
      window(eventTimeSessionWindows(10)),
      describeWindow,
      toArray(),
    ),
  )
  assert.equal(out.sort(), ['a [0,15) 0,5', 'a [30,48) 30,38', 'b [2,12) 2'])
})

test('a record that bridges two sessions merges them into one', async () => {
  const input = [ev('a', 0, 1), ev('a', 18, 2), ev('a', 9, 4)]
  const out = await lastValueFrom(
    from(input).pipe(
      eventTime(20),
      keyBy((e) => e.key),
      window(eventTimeSessionWindows(10)),
      describeWindow,
      toArray(),
    ),
  )
  assert.equal(out, ['a [0,28) 0,9,18'])
})

test('session windows aggregate with the function merge when sessions merge', async () => {
  const count: AggregateFunction<Ev, number, number> = {
    createAccumulator: () => 0,
    add: (_e, n) => n + 1,
    getResult: (n) => n,
    merge: (a, b) => a + b,
  }
  const input = [ev('a', 0), ev('a', 18), ev('a', 19), ev('a', 9), ev('a', 100)]
  const out = await lastValueFrom(
    from(input).pipe(
      eventTime(20),
      keyBy((e) => e.key),
      window(eventTimeSessionWindows(10)),
      aggregate(count),
      toArray(),
    ),
  )
  assert.equal(out, [4, 1])
})

test('session windows refuse an aggregate function without merge, naming the option', async () => {
  const noMerge: AggregateFunction<Ev, number, number> = {
    createAccumulator: () => 0,
    add: (_e, n) => n + 1,
    getResult: (n) => n,
  }
  const run = lastValueFrom(
    from([ev('a', 0)]).pipe(
      eventTime(),
      keyBy((e) => e.key),
      window(eventTimeSessionWindows(10)),
      aggregate(noMerge),
    ),
  )
  await run.then(
    () => assert.unreachable('an aggregate without merge ran on session windows'),
    (error) => {
      assert.instance(error, ConfigError)
      assert.match(error.message, /merge/)
    },
  )
})

test('allowed lateness fires the window again for each late record, until the watermark passes end + lateness', async () => {
  const late = new OutputTag<Ev>('late')
  const input = [
    ev('a', 1, 1),
    ev('a', 3, 2),
    ev('a', 12, 0), // watermark 11: [0, 10) fires with 3
    ev('a', 4, 4), // late but within 5 ms of lateness: fires again with 7
    ev('a', 8, 8), // fires again with 15
    ev('a', 16, 0), // watermark 15 passes 9 + 5: [0, 10) is cleaned up
    ev('a', 5, 100), // too late
  ]
  const main$ = from(input).pipe(
    eventTime(),
    keyBy((e) => e.key),
    window(tumblingEventTimeWindows(10), { allowedLatenessMs: 5, lateOutput: late }),
    reduce(sum),
  ) as EmbeddedStream<Ev>
  const tooLate: Ev[] = []
  main$.sideOutput(late).subscribe((e) => tooLate.push(e))
  const out = await lastValueFrom(main$.pipe(toArray()))
  assert.equal(
    out.map((e) => e.n),
    [3, 7, 15, 0],
  )
  assert.equal(tooLate, [ev('a', 5, 100)])
})

test('records later than the allowed lateness go to the side output with their own timestamps', async () => {
  const late = new OutputTag<Ev>('too-late')
  const main$ = from([ev('a', 1), ev('a', 30), ev('a', 2), ev('b', 3), ev('a', 31)]).pipe(
    eventTime(),
    keyBy((e) => e.key),
    window(tumblingEventTimeWindows(10), { lateOutput: late }),
    reduce(sum),
  ) as EmbeddedStream<Ev>
  const tooLate: Ev[] = []
  main$.sideOutput(late).subscribe((e) => tooLate.push(e))
  const out = await lastValueFrom(main$.pipe(toArray()))
  assert.equal(
    out.map((e) => [e.key, e.n]),
    [
      ['a', 1],
      ['a', 2],
    ],
  )
  assert.equal(
    tooLate.map((e) => [e.key, e.at]),
    [
      ['a', 2],
      ['b', 3],
    ],
  )
})

test('windows an unkeyed stream as a whole (windowAll)', async () => {
  const out = await lastValueFrom(
    from([ev('a', 1, 1), ev('b', 2, 2), ev('c', 11, 4), ev('a', 12, 8)]).pipe(
      eventTime(),
      window(tumblingEventTimeWindows(10)),
      reduce(sum),
      toArray(),
    ),
  )
  assert.equal(
    out.map((e) => e.n),
    [3, 12],
  )
})

test('a window over an unkeyed stream runs with parallelism 1 and refuses more', () => {
  const env = StreamEnvironment.create({ parallelism: 4 })
  const stream = env.fromCollection([ev('a', 1)]).pipe(eventTime(), window(tumblingEventTimeWindows(10)), reduce(sum))
  const node = stream.transformation as { parallelism: number | undefined; name: string }
  assert.is(node.parallelism, 1)
  assert.match(node.name, /^windowAll\(TumblingEventTimeWindows\(10\)/)
  assert.throws(
    () =>
      env
        .fromCollection([ev('a', 1)])
        .pipe(eventTime(), window(tumblingEventTimeWindows(10)), reduce(sum, { parallelism: 2 })),
    (e: unknown) => e instanceof ConfigError && e.option === 'reduce.parallelism',
  )
  const keyed = env.fromCollection([ev('a', 1)]).pipe(
    eventTime(),
    keyBy((e) => e.key),
    window(tumblingEventTimeWindows(10)),
    reduce(sum, { parallelism: 3 }),
  )
  assert.is(
    (keyed.transformation as { parallelism: number | undefined }).parallelism,
    3,
    'keyed windows keep the parallelism asked for',
  )
})

test('aggregate keeps an accumulator per window and emits its result', async () => {
  const average: AggregateFunction<Ev, [number, number], number> = {
    createAccumulator: () => [0, 0],
    add: (e, [total, count]) => [total + e.n, count + 1],
    getResult: ([total, count]) => total / count,
  }
  const out = await lastValueFrom(
    from([ev('a', 1, 2), ev('a', 2, 4), ev('a', 15, 9)]).pipe(
      eventTime(),
      keyBy((e) => e.key),
      window(tumblingEventTimeWindows(10)),
      aggregate(average),
      toArray(),
    ),
  )
  assert.equal(out, [3, 9])
})

test('a window function after reduce or aggregate gets the key and the window with the result', async () => {
  // The shared reduce/aggregate take OperatorOptions; windowFunction rides along to WindowedStream (see the report).
  const reduceOptions: WindowFunctionOptions<Ev, string, TimeWindow> = {
    windowFunction: (key, w, e) => `${key}@${w.start}:${e.n}`,
  }
  const reduced = await lastValueFrom(
    from([ev('a', 1), ev('a', 2), ev('b', 3)]).pipe(
      eventTime(),
      keyBy((e) => e.key),
      window(tumblingEventTimeWindows(10)),
      reduce(sum, reduceOptions as OperatorOptions),
      toArray(),
    ),
  )
  assert.equal(reduced as unknown, ['a@0:2', 'b@0:1'])
  const count: AggregateFunction<Ev, number, number> = {
    createAccumulator: () => 0,
    add: (_e, n) => n + 1,
    getResult: (n) => n,
  }
  const aggregateOptions: WindowFunctionOptions<number, string, TimeWindow> = {
    windowFunction: (key, w, n) => `${key}@${w.end}:${n}`,
  }
  const aggregated = await lastValueFrom(
    from([ev('a', 1), ev('a', 12)]).pipe(
      eventTime(),
      keyBy((e) => e.key),
      window(tumblingEventTimeWindows(10)),
      aggregate(count, aggregateOptions as OperatorOptions),
      toArray(),
    ),
  )
  assert.equal(aggregated as unknown, ['a@10:1', 'a@20:1'])
})

test('a process window function object gets open, per-window state across late firings and side outputs', async () => {
  const firings = new OutputTag<string>('firings')
  const perWindow = engineOperator<Ev, string>((windowed: WindowedStream<Ev, TimeWindow>) =>
    windowed.process<string>({
      opened: false,
      open() {
        this.opened = true
      },
      process(key, ctx, elements, out) {
        const fired = ctx.windowState.getState(new ValueStateDescriptor<number>('fired', { defaultValue: 0 }))
        fired.update(fired.value()! + 1)
        out.collect(
          `${key} [${ctx.window.start},${ctx.window.end}) n=${elements.length} firing=${fired.value()} opened=${this.opened}`,
        )
        ctx.output(firings, `${key}:${ctx.window.end}`)
      },
    } as import('../../lib/windows/process-window-function.js').ProcessWindowFunctionObject<Ev, string, TimeWindow> & {
      opened: boolean
    }),
  )
  const main$ = from([ev('a', 1), ev('a', 11), ev('a', 2)]).pipe(
    eventTime(),
    keyBy((e) => e.key),
    window(tumblingEventTimeWindows(10), { allowedLatenessMs: 100 }),
    perWindow,
  ) as EmbeddedStream<string>
  const side: string[] = []
  main$.sideOutput(firings).subscribe((s) => side.push(s))
  const out = await lastValueFrom(main$.pipe(toArray()))
  assert.equal(out, [
    'a [0,10) n=1 firing=1 opened=true',
    'a [0,10) n=2 firing=2 opened=true',
    'a [10,20) n=1 firing=1 opened=true',
  ])
  assert.equal(side, ['a:10', 'a:10', 'a:20'])
})

test('a custom trigger replaces the default one', async () => {
  const out = await lastValueFrom(
    from([ev('a', 1, 1), ev('a', 2, 2), ev('a', 3, 4), ev('a', 4, 8), ev('a', 5, 16)]).pipe(
      eventTime(),
      keyBy((e) => e.key),
      window(tumblingEventTimeWindows(100), { trigger: CountTrigger.of(2) }),
      reduce(sum),
      toArray(),
    ),
  )
  assert.equal(
    out.map((e) => e.n),
    [3, 15],
    'fires every two records, keeps contents, and never at the window end',
  )
})

test('an event-time window fails clearly on a record without a timestamp', async () => {
  const run = lastValueFrom(
    from([ev('a', 1)]).pipe(
      keyBy((e) => e.key),
      window(tumblingEventTimeWindows(10)),
      reduce(sum),
    ),
  )
  await run.then(
    () => assert.unreachable('a record without timestamp was windowed'),
    (error) => {
      assert.match(
        error.message,
        /record \{.*\} has no timestamp: use assignTimestampsAndWatermarks .*before an event-time window/,
      )
      assert.match(error.message, /window\(TumblingEventTimeWindows\(10\)/, 'names the operator')
      assert.is(error.message.split('TumblingEventTimeWindows').length, 2, 'names it once')
      assert.instance(error, PipelineError, 'a pipeline mistake, not a user function failure')
      assert.not.instance(error, UserFunctionError)
      assert.is(error.code, 'ERR_NO_TIMESTAMP')
    },
  )
})

test('on the engine, a record without a timestamp fails the job as a pipeline mistake, whatever the error policy', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  const error = await env
    .fromElements(ev('a', 1))
    .pipe(
      keyBy((e) => e.key),
      window(tumblingEventTimeWindows(10)),
      reduce(sum, { onError: 'resume' }),
    )
    .executeAndCollect()
    .then(
      () => undefined,
      (e: unknown) => e,
    )
  assert.instance(error, PipelineError)
  assert.is((error as PipelineError).code, 'ERR_NO_TIMESTAMP')
  assert.match((error as Error).message, /^operator window\(TumblingEventTimeWindows\(10\).*\(subtask 0\): record /)
})

test('window must be followed by a window function', () => {
  const env = StreamEnvironment.create()
  assert.throws(
    () => env.fromCollection([1]).pipe(window(tumblingEventTimeWindows(10))),
    (e: unknown) => e instanceof ConfigError && /reduce, aggregate or process/.test((e as Error).message),
  )
})

test.run()

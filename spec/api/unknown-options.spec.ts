import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { of } from 'rxjs'
import {
  StreamEnvironment,
  ValueStateDescriptor,
  WatermarkStrategy,
  aggregate,
  asyncMap,
  assignTimestampsAndWatermarks,
  connect,
  keyBy,
  map,
  reduce,
  tumblingEventTimeWindows,
  window,
} from '../../lib/index.js'
import { ConfigError } from '../../lib/errors.js'

/** The ConfigError `build` throws: it must name `option` and suggest `suggestion`. */
function refuses(build: () => unknown, option: string, suggestion: string): void {
  let error: unknown
  try {
    build()
  } catch (e) {
    error = e
  }
  assert.instance(error, ConfigError, `${option} was refused`)
  assert.is((error as ConfigError).option, option)
  assert.match((error as Error).message, `did you mean ${suggestion}?`)
}

const env = () => StreamEnvironment.create({ logLevel: 'silent' })
const sum = { createAccumulator: () => 0, add: (v: number, a: number) => a + v, getResult: (a: number) => a }

test('a misspelt environment option fails suggesting the right one, also in checkpointing and restartStrategy', () => {
  refuses(() => StreamEnvironment.create({ paralelism: 4 } as never), 'paralelism', 'parallelism')
  refuses(
    () => StreamEnvironment.create({ checkpointing: { intervalMs: 10, timeoutMS: 5 } as never }),
    'checkpointing.timeoutMS',
    'timeoutMs',
  )
  refuses(
    () => StreamEnvironment.create({ restartStrategy: { kind: 'fixed-delay', attempts: 3, delay: 10 } as never }),
    'restartStrategy.delay',
    'delayMs',
  )
  refuses(() => StreamEnvironment.create({ queryableState: { prot: 0 } as never }), 'queryableState.prot', 'port')
})

test('a misspelt operator, source, window or state option fails suggesting the right one', () => {
  refuses(() => env().fromSequence(1, 2, { paralelism: 2 } as never), 'sequence.paralelism', 'parallelism')
  refuses(() => env().fromObservable(of(1), { bufferSise: 4 } as never), 'fromObservable.bufferSise', 'bufferSize')
  refuses(
    () =>
      env()
        .fromElements(1)
        .pipe(map((x: number) => x, { nmae: 'm' } as never)),
    'map.nmae',
    'name',
  )
  refuses(
    () =>
      env()
        .fromElements(1)
        .pipe(asyncMap(async (x: number) => x, { capacty: 2 } as never)),
    'asyncMap.capacty',
    'capacity',
  )
  refuses(
    () => assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps(), { intervalMS: 5 } as never),
    'assignTimestampsAndWatermarks.intervalMS',
    'intervalMs',
  )
  refuses(
    () =>
      env()
        .fromElements(1)
        .pipe(
          window(tumblingEventTimeWindows(10), { allowedLateness: 5 } as never),
          reduce((a: number, b: number) => a + b),
        ),
    'window.allowedLateness',
    'allowedLatenessMs',
  )
  refuses(
    () => reduce((a: number, b: number) => a + b, { windowFunc: () => 1 } as never),
    'reduce.windowFunc',
    'windowFunction',
  )
  refuses(() => aggregate(sum, { onEror: 'resume' } as never), 'aggregate.onEror', 'onError')
  refuses(
    () => connect(of(1), { processElement1() {}, processElement2() {} }, { kye2: () => 1 } as never),
    'connect.kye2',
    'key2',
  )
  refuses(
    () => new ValueStateDescriptor('count', { defaultValu: 0 } as never),
    'state count.defaultValu',
    'defaultValue',
  )
  refuses(() => new ValueStateDescriptor('count', { ttl: { ttlMS: 5 } } as never), 'state count.ttl.ttlMS', 'ttlMs')
  refuses(
    () =>
      env()
        .fromElements(1)
        .pipe(keyBy((x: number) => x))
        .sinkTo({ name: 'nul', guarantee: 'at-most-once', createWriter: () => ({ write() {}, close() {} }) }, {
          parralelism: 1,
        } as never),
    'nul.parralelism',
    'parallelism',
  )
})

test('options set to undefined count as absent', () => {
  StreamEnvironment.create({ parallelism: undefined, checkpointing: undefined, logLevel: 'silent' })
  map((x: number) => x, { name: undefined })
})

test.run()

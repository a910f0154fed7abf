import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { bufferCount } from 'rxjs'
import { StreamEnvironment, filter, flatMap, map, rebalance } from '../../lib/index.js'
import { ConfigError } from '../../lib/errors.js'
import { runEmbedded, runEngine, sorted } from '../support/modes.js'

const input = Array.from({ length: 2000 }, (_, i) => i)

test('map transforms every record in embedded and engine mode alike', async () => {
  const expected = input.map((x) => x * 3)
  assert.equal(
    await runEmbedded(
      input,
      map((x: number) => x * 3),
    ),
    expected,
  )
  assert.equal(
    await runEngine(
      input,
      {},
      map((x: number) => x * 3),
    ),
    expected,
  )
})

test('filter keeps only accepted records', async () => {
  const expected = input.filter((x) => x % 7 === 0)
  assert.equal(
    await runEmbedded(
      input,
      filter((x: number) => x % 7 === 0),
    ),
    expected,
  )
  assert.equal(
    await runEngine(
      input,
      {},
      filter((x: number) => x % 7 === 0),
    ),
    expected,
  )
})

test('flatMap emits every element of the returned iterable, arrays and generators alike', async () => {
  const lines = ['a b', '', 'c d e']
  const expected = ['a', 'b', '', 'c', 'd', 'e']
  assert.equal(
    await runEmbedded(
      lines,
      flatMap((l: string) => l.split(' ')),
    ),
    expected,
  )
  assert.equal(
    await runEngine(
      lines,
      {},
      flatMap((l: string) => l.split(' ')),
    ),
    expected,
  )
  function* twice(x: number) {
    yield x
    yield x
  }
  assert.equal(await runEngine([1, 2], {}, flatMap(twice)), [1, 1, 2, 2])
})

test('a chain at parallelism 4 after rebalance loses and duplicates nothing', async () => {
  const out = await runEngine<number>(
    input,
    { parallelism: 4 },
    rebalance(),
    map((x: number) => x + 1),
    filter((x: number) => x % 2 === 0),
  )
  assert.equal(sorted(out), sorted(input.map((x) => x + 1).filter((x) => x % 2 === 0)))
})

test('a plain RxJS operator runs inside the job (bufferCount flushes its tail at the end)', async () => {
  const out = await runEngine<number[]>(
    [1, 2, 3, 4, 5],
    {},
    map((x: number) => x),
    bufferCount(2),
  )
  assert.equal(out, [[1, 2], [3, 4], [5]])
})

test('operators reject a non-function when the job is built, naming the operator', () => {
  assert.throws(
    () => map(42 as never),
    (e: unknown) => e instanceof ConfigError && e.option === 'map',
  )
  assert.throws(
    () => filter(undefined as never),
    (e: unknown) => e instanceof ConfigError && e.option === 'filter',
  )
})

test('a bad operator option fails when the job is built, naming operator and option', () => {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  assert.throws(
    () => env.fromElements(1).pipe(map((x: number) => x, { parallelism: 0 })),
    (e: unknown) => e instanceof ConfigError && e.option === 'map.parallelism' && /0/.test(e.message),
  )
  assert.throws(
    () => env.fromElements(1).pipe(map((x: number) => x, { onError: 'ignore' as never })),
    (e: unknown) => e instanceof ConfigError && e.option === 'map.onError',
  )
})

test.run()

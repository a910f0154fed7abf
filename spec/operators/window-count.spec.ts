import { from, lastValueFrom, toArray } from 'rxjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../lib/errors.js'
import { keyBy } from '../../lib/operators/key-by.js'
import { process } from '../../lib/operators/process.js'
import { reduce } from '../../lib/operators/reduce.js'
import { countWindow } from '../../lib/operators/window.js'
import { MAX_TIMESTAMP } from '../../lib/windows/window.js'

interface Item {
  key: string
  n: number
}

const items = (key: string, ...ns: number[]): Item[] => ns.map((n) => ({ key, n }))
const sum = (a: Item, b: Item): Item => ({ key: a.key, n: a.n + b.n })
/** Concatenates the values, so a result shows which records its window held, in order. */
const concat = (a: Item, b: Item): Item => ({ key: a.key, n: Number(`${a.n}${b.n}`) })

test('tumbling count windows emit every n records per key and never a window that did not fill', async () => {
  const input = [...items('a', 1, 2), ...items('b', 10), ...items('a', 3, 4, 5, 6, 7), ...items('b', 20)]
  const out = await lastValueFrom(
    from(input).pipe(
      keyBy((i) => i.key),
      countWindow(3),
      reduce(sum),
      toArray(),
    ),
  )
  assert.equal(out, [
    { key: 'a', n: 6 },
    { key: 'a', n: 15 },
  ])
})

test('sliding count windows emit the last size records every slide records', async () => {
  const out = await lastValueFrom(
    from(items('a', 1, 2, 3, 4, 5, 6, 7)).pipe(
      keyBy((i) => i.key),
      countWindow(3, 2),
      reduce(concat),
      toArray(),
    ),
  )
  assert.equal(
    out.map((i) => i.n),
    [12, 234, 456],
  )
})

test('count windows need no timestamps and stamp results with the end of time', async () => {
  const out = await lastValueFrom(
    from(items('a', 1, 2)).pipe(
      keyBy((i) => i.key),
      countWindow(2),
      reduce(sum),
      process<Item, number | undefined>((_i, ctx, out) => out.collect(ctx.timestamp)),
      toArray(),
    ),
  )
  assert.equal(out, [MAX_TIMESTAMP])
})

test('count windows over an unkeyed stream count all records together', async () => {
  const input = [...items('a', 1), ...items('b', 2), ...items('c', 3), ...items('d', 4)]
  const out = await lastValueFrom(from(input).pipe(countWindow(2), reduce(sum), toArray()))
  assert.equal(
    out.map((i) => i.n),
    [3, 7],
  )
})

test('rejects a size or slide that is not a whole number of at least 1', () => {
  assert.throws(
    () => countWindow(0),
    (e: unknown) => e instanceof ConfigError && e.option === 'countWindow.size',
  )
  assert.throws(
    () => countWindow(3, 1.5),
    (e: unknown) => e instanceof ConfigError && e.option === 'countWindow.slide',
  )
})

test.run()

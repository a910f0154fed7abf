import { Subject, from, lastValueFrom, toArray } from 'rxjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { keyBy } from '../../lib/operators/key-by.js'
import { reduce } from '../../lib/operators/reduce.js'
import { window } from '../../lib/operators/window.js'
import { processingTimeSessionWindows } from '../../lib/windows/assigners/session.js'
import { tumblingProcessingTimeWindows } from '../../lib/windows/assigners/tumbling.js'
import { waitFor } from '../support/wait-for.js'

interface Hit {
  page: string
  n: number
}

const sum = (a: Hit, b: Hit): Hit => ({ page: a.page, n: a.n + b.n })
const SIZE = 40

test('a processing-time tumbling window fires when the wall clock passes its end', async () => {
  const input = new Subject<Hit>()
  const out: Hit[] = []
  let completed = false
  const done = new Promise<void>((resolve, reject) =>
    input
      .pipe(
        keyBy((h) => h.page),
        window(tumblingProcessingTimeWindows(SIZE)),
        reduce(sum),
      )
      .subscribe({
        next: (h) => out.push(h),
        error: reject,
        complete: () => {
          completed = true
          resolve()
        },
      }),
  )
  // Start early in a window, so the records below cannot straddle two windows.
  await waitFor(() => Date.now() % SIZE < SIZE / 4, { description: 'the start of a window' })
  input.next({ page: 'a', n: 1 })
  input.next({ page: 'b', n: 10 })
  input.next({ page: 'a', n: 2 })
  await waitFor(() => out.length === 2, { description: 'both keys fired', timeoutMs: 1_000 })
  assert.not.ok(completed, 'fired by the timer, not by the end of input')
  assert.equal(
    out.sort((x, y) => x.page.localeCompare(y.page)),
    [
      { page: 'a', n: 3 },
      { page: 'b', n: 10 },
    ],
  )
  input.complete()
  await done
  assert.is(out.length, 2, 'nothing left over')
})

test('the end of input fires processing-time windows still open', async () => {
  const input: Hit[] = [
    { page: 'a', n: 1 },
    { page: 'b', n: 5 },
    { page: 'a', n: 2 },
  ]
  const out = await lastValueFrom(
    from(input).pipe(
      keyBy((h) => h.page),
      window(tumblingProcessingTimeWindows(60_000)),
      reduce(sum),
      toArray(),
    ),
  )
  assert.equal(
    out.sort((x, y) => x.page.localeCompare(y.page)),
    [
      { page: 'a', n: 3 },
      { page: 'b', n: 5 },
    ],
  )
})

test('the end of input fires open processing-time sessions too', async () => {
  const out = await lastValueFrom(
    from([
      { page: 'a', n: 1 },
      { page: 'a', n: 2 },
    ]).pipe(
      keyBy((h) => h.page),
      window(processingTimeSessionWindows(60_000)),
      reduce(sum),
      toArray(),
    ),
  )
  assert.equal(out, [{ page: 'a', n: 3 }])
})

test.run()

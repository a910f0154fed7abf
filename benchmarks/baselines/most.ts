// Baseline: @most/core, the fastest push-stream library for JavaScript. It has no `fromArray`, so a
// small Stream emits the array in one scheduler task, as @most's own benchmarks do.
import { filter, map, runEffects, tap } from '@most/core'
import { asap, newDefaultScheduler } from '@most/scheduler'
import type { Disposable, Scheduler, Sink, Stream } from '@most/types'
import type { RunResult } from '../measure.js'

/** Emits every element of an array at the time the task runs, then ends. */
class FromArray<A> implements Stream<A> {
  constructor(private readonly items: readonly A[]) {}

  run(sink: Sink<A>, scheduler: Scheduler): Disposable {
    const items = this.items
    let active = true
    const task = asap(
      {
        run(t) {
          for (let i = 0; i < items.length && active; i++) sink.event(t, items[i]!)
          if (active) sink.end(t)
        },
        error(t, e) {
          sink.error(t, e)
        },
        dispose() {
          active = false
        },
      },
      scheduler,
    )
    return { dispose: () => task.dispose() }
  }
}

async function drain(stream: Stream<number>, records: number): Promise<RunResult> {
  let output = 0
  let checksum = 0
  const scheduler = newDefaultScheduler()
  await runEffects(
    tap((v: number) => {
      output++
      checksum += v
    }, stream),
    scheduler,
  )
  return { records, output, checksum }
}

/** Case stateless: map(x*2), filter(x % 3 !== 0). */
export function statelessChain(data: readonly number[]): Promise<RunResult> {
  return drain(
    filter(
      (x: number) => x % 3 !== 0,
      map((x: number) => x * 2, new FromArray(data)),
    ),
    data.length,
  )
}

/** Case keyed: map(x+1), filter, a Map of counts per key x % 1000, emitting the new count. */
export function keyedCount(data: readonly number[]): Promise<RunResult> {
  const counts = new Map<number, number>()
  const counted = map(
    (x: number) => {
      const key = x % 1000
      const n = (counts.get(key) ?? 0) + 1
      counts.set(key, n)
      return n
    },
    filter(
      (x: number) => x % 3 !== 0,
      map((x: number) => x + 1, new FromArray(data)),
    ),
  )
  return drain(counted, data.length)
}

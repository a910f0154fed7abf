import { setImmediate as nextMacrotask } from 'node:timers/promises'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { type KeeperTimers, LayoutKeeper, layoutKeeper } from '../../lib/runtime/layout-keeper.js'
import { liveHeapBytes } from '../support/live-heap.js'

/** Timers a test fires by hand. */
function manualTimers(): KeeperTimers & { pending: Set<() => void>; fire(): void } {
  const pending = new Set<() => void>()
  return {
    pending,
    setTimeout(fn) {
      pending.add(fn)
      return fn
    },
    clearTimeout(timer) {
      pending.delete(timer as () => void)
    },
    fire() {
      for (const fn of [...pending]) {
        pending.delete(fn)
        fn()
      }
    },
  }
}

test('ended subtasks are held until one built after they ended runs, not by one built before', () => {
  const keeper = new LayoutKeeper(30_000, manualTimers())
  const sameJob = keeper.stamp()
  keeper.ended({ name: 'a' })
  keeper.ended({ name: 'b' })
  keeper.running(sameJob)
  assert.is(keeper.size, 2, 'a subtask of the ended job (built before they ended) releases nothing')
  const nextJob = keeper.stamp()
  keeper.ended({ name: 'c' })
  keeper.running(nextJob)
  assert.is(keeper.size, 1, 'the next job releases those that ended before it was built, and only those')
})

test('with no job after them, ended subtasks are held for the grace period only', () => {
  const timers = manualTimers()
  const keeper = new LayoutKeeper(30_000, timers)
  keeper.ended({})
  keeper.ended({})
  assert.is(timers.pending.size, 1, 'one timer, restarted by each end')
  timers.fire()
  assert.is(keeper.size, 0)
  keeper.ended({})
  keeper.running(keeper.stamp())
  assert.is(keeper.size, 0)
  assert.is(timers.pending.size, 0, 'the timer goes with the last held subtask')
})

/** Runs a job over `items` to its end, keeping nothing of it here. */
async function runJobOver(items: readonly object[]): Promise<void> {
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  let seen = 0
  env.fromCollection(items).sinkTo(
    new CallbackSink(() => {
      seen++
    }),
  )
  await env.execute('layout keeper')
  assert.is(seen, items.length)
}

test("an ended job's objects stay reachable until the next job runs, then go", async () => {
  let items: object[] | undefined = Array.from({ length: 1_000 }, (_, i) => ({ i }))
  const ref = new WeakRef(items)
  await runJobOver(items)
  items = undefined
  await nextMacrotask()
  liveHeapBytes()
  assert.ok(ref.deref() !== undefined, "the ended job's subtasks (and its source's items) are held")
  assert.ok(layoutKeeper.size > 0)

  await runJobOver([{ i: 0 }])
  await nextMacrotask()
  liveHeapBytes()
  assert.ok(ref.deref() === undefined, 'the next job, once running, released the first')
})

test.run()

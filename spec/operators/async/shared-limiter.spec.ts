import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { asyncMap, sharedLimiter } from '../../../lib/operators/async-map.js'
import { hostedJob } from '../../../lib/runtime/workers/worker-thread.js'
import { runEngine, sorted } from '../../support/modes.js'
import { sharedSlots } from '../../support/shared-flags.js'
import { FakeService } from './async-support.js'

const ON_WORKERS = process.env.SLUICE_EXECUTOR === 'workers'

test('a shared limiter of one runs one call at a time over the subtasks of a job, on whichever threads they run', async () => {
  const limiter = sharedLimiter(1)
  // counts calls and the most running at once in memory every thread shares
  const svc = new FakeService(
    (x: number) => x,
    () => 2,
  )
  // calls by the worker thread that made them (0 on one thread)
  const byThread = sharedSlots(2)
  const call = (x: number, signal: AbortSignal): Promise<number> => {
    Atomics.add(byThread, hostedJob()?.thread ?? 0, 1)
    return svc.call(x, signal)
  }
  const input = Array.from({ length: 60 }, (_, i) => i)
  const out = await runEngine<number>(input, { parallelism: 2 }, asyncMap(call, { capacity: 8, limiter }))
  assert.equal(sorted(out), sorted(input))
  assert.is(svc.calls, input.length)
  assert.is(svc.maxActive, 1, 'never two calls at once, over both subtasks')
  if (ON_WORKERS)
    assert.ok(
      Atomics.load(byThread, 0) > 0 && Atomics.load(byThread, 1) > 0,
      `the subtasks called from both threads (${byThread.join(', ')})`,
    )
})

test.run()

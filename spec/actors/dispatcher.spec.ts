import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem } from '../../lib/actors/index.js'
import { Dispatcher, type Runnable } from '../../lib/actors/dispatcher.js'
import { settlesWithin, waitFor } from '../support/wait-for.js'

test('two busy actors interleave in turns of `throughput` messages', async () => {
  const system = new ActorSystem({ throughput: 10 })
  const log: string[] = []
  const a = system.spawn<number>(() => ({ receive: () => void log.push('a') }), { name: 'a' })
  const b = system.spawn<number>(() => ({ receive: () => void log.push('b') }), { name: 'b' })
  for (let i = 0; i < 100; i++) {
    a.tell(i)
    b.tell(i)
  }
  await waitFor(() => log.length === 200)
  const expected = Array.from({ length: 20 }, (_, turn) => (turn % 2 === 0 ? 'a' : 'b').repeat(10)).join('')
  assert.is(log.join(''), expected)
  await settlesWithin(system.terminate())
})

test('the run queue gives each runnable `throughput` per turn, round-robin, until it reports no more work', async () => {
  const dispatcher = new Dispatcher({ throughput: 3 })
  const turns: string[] = []
  const runnable = (name: string, turnsWanted: number): Runnable => {
    let left = turnsWanted
    return { runTurn: (budget) => (turns.push(`${name}:${budget}`), --left > 0) }
  }
  dispatcher.schedule(runnable('x', 3))
  dispatcher.schedule(runnable('y', 1))
  await waitFor(() => turns.length === 4)
  assert.equal(turns, ['x:3', 'y:3', 'x:3', 'x:3'])
})

test('a timer runs while one actor works through 100k messages', async () => {
  const system = new ActorSystem()
  const total = 100_000
  let processed = 0
  let processedWhenTimerRan = -1
  let sink = 0
  const busy = system.spawn<number>(
    () => ({
      receive(n) {
        // The timer is armed from inside the work, so it can only run if the dispatcher yields.
        if (n === 0) setTimeout(() => (processedWhenTimerRan = processed), 0)
        for (let i = 0; i < 200; i++) sink = (sink * 31 + i) | 0
        processed++
      },
    }),
    { name: 'busy', mailboxCapacity: total },
  )
  for (let n = 0; n < total; n++) busy.tell(n)
  await waitFor(() => processed === total, { timeoutMs: 4_000 })
  assert.ok(processedWhenTimerRan > 0, 'the timer ran')
  assert.ok(processedWhenTimerRan < total, `the timer ran only after all ${total} messages`)
  assert.ok(Number.isInteger(sink))
  await settlesWithin(system.terminate())
})

test('an actor whose slow messages send it more ends its turn after the time slice: a queued immediate runs in between', async () => {
  const system = new ActorSystem({ timeSliceMs: 4 })
  let steps = 0
  let stepsWhenImmediateRan = -1
  const spin = (ms: number) => {
    const end = performance.now() + ms
    while (performance.now() < end);
  }
  const worker = system.spawn<'step'>(
    (ctx) => ({
      receive() {
        // A long job in steps, each queueing the next, as a checkpoint writes key groups.
        if (steps === 0) setImmediate(() => (stepsWhenImmediateRan = steps))
        spin(3)
        if (++steps < 40) ctx.self.tell('step')
      },
    }),
    { name: 'stepper' },
  )
  worker.tell('step')
  await waitFor(() => steps === 40, { timeoutMs: 4_000 })
  // the clock is read every 8 messages: 8 steps of 3 ms, then the turn ends
  assert.ok(
    stepsWhenImmediateRan > 0 && stepsWhenImmediateRan <= 8,
    `the immediate ran after ${stepsWhenImmediateRan} of 40 steps (one turn is 64 messages)`,
  )
  await settlesWithin(system.terminate())
})

test('a requested yield ends the time slice where the clock is next read: a queued immediate runs before the slice is used', async () => {
  let requested = false
  const system = new ActorSystem({ timeSliceMs: 60_000, yieldRequested: () => requested })
  let handled = 0
  let handledWhenImmediateRan = -1
  const actor = system.spawn<'next'>(
    (ctx) => ({
      receive() {
        // as lookups arriving in a worker's port while its subtasks work
        if (++handled === 20) {
          requested = true
          setImmediate(() => {
            handledWhenImmediateRan = handled
            requested = false
          })
        }
        if (handled < 2_000) ctx.self.tell('next')
      },
    }),
    { name: 'busy' },
  )
  actor.tell('next')
  await waitFor(() => handled === 2_000, { timeoutMs: 4_000 })
  // the clock (and the request) is read every 8 messages; without the request all 2,000 fit in the slice
  assert.ok(
    handledWhenImmediateRan >= 20 && handledWhenImmediateRan <= 28,
    `the immediate ran after ${handledWhenImmediateRan} of 2,000 messages`,
  )
  await settlesWithin(system.terminate())
})

test.run()

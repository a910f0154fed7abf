import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MetricsRegistry, SubtaskMetrics } from '../../lib/runtime/job-metrics.js'

function metricsAt(clock: { now: number }): SubtaskMetrics {
  return new SubtaskMetrics('v', 0, [], 0, 0, () => clock.now)
}

test('time goes to the activity entered, busy by default; the totals add up to the time since creation', () => {
  const clock = { now: 1_000 }
  const m = metricsAt(clock)
  clock.now += 100 // busy
  m.enter('idle')
  clock.now += 300
  m.enter('backpressured')
  clock.now += 200
  m.enter('backpressured') // no change: no clock read needed, nothing counted twice
  clock.now += 50
  m.enter('busy')
  clock.now += 150
  const t = m.times()
  assert.equal([t.busyMs, t.idleMs, t.backpressuredMs], [250, 300, 250])
  assert.is(t.busyMs + t.idleMs + t.backpressuredMs, clock.now - 1_000)
})

test('shares are per second over the last window of at least a second, and add up to 1000', () => {
  const clock = { now: 0 }
  const m = metricsAt(clock)
  m.enter('idle')
  clock.now = 500
  // the first second: since creation
  assert.equal(m.timeShares(), { busyTimeMsPerSecond: 0, idleTimeMsPerSecond: 1000, backPressuredTimeMsPerSecond: 0 })
  m.enter('backpressured')
  clock.now = 1_000
  const first = m.timeShares() // closes the window [0, 1000]: 500 idle, 500 backpressured
  assert.equal(first, { busyTimeMsPerSecond: 0, idleTimeMsPerSecond: 500, backPressuredTimeMsPerSecond: 500 })
  m.enter('busy')
  clock.now = 1_400
  assert.equal(m.timeShares(), first, 'within the next window the last full one is shown')
  m.enter('idle')
  clock.now = 2_000
  // window [1000, 2000]: 400 busy, 600 idle
  assert.equal(m.timeShares(), { busyTimeMsPerSecond: 400, idleTimeMsPerSecond: 600, backPressuredTimeMsPerSecond: 0 })
  clock.now = 4_000
  // a reader that comes late averages over the whole span since the last window
  assert.equal(m.timeShares(), { busyTimeMsPerSecond: 0, idleTimeMsPerSecond: 1000, backPressuredTimeMsPerSecond: 0 })
})

test('the job snapshot carries each subtask’s shares and totals', () => {
  const clock = { now: 0 }
  const registry = new MetricsRegistry(0)
  const m = metricsAt(clock)
  registry.subtasks.push(m)
  m.enter('backpressured')
  clock.now = 1_000
  const [s] = registry.snapshot().subtasks
  assert.equal(
    [s!.busyTimeMsPerSecond, s!.idleTimeMsPerSecond, s!.backPressuredTimeMsPerSecond, s!.backpressuredMs, s!.busyMs],
    [0, 0, 1000, 1000, 0],
  )
})

test.run()

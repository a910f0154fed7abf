import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AckWindow, type AckWindowSettings } from '../../../lib/connectors/base/ack-window.js'

/**
 * The window sizing of the queue reader base, on a hand-moved clock: growth only when the window
 * starved the reader, to twice rate × interval, within half the byte budget and the protocol's limit.
 */
const Window = suite('acknowledgement window')

function windowAt(settings: Partial<AckWindowSettings> = {}): { window: AckWindow; clock: { t: number } } {
  const clock = { t: 0 }
  const window = new AckWindow(
    { initial: 100, max: 65_535, maxBytes: 1_000_000, checkpointIntervalMs: 1000, ...settings },
    () => clock.t,
  )
  return { window, clock }
}

/** One checkpoint cycle of `ms` in which `n` messages of `bytes` were taken. */
function cycle(w: { window: AckWindow; clock: { t: number } }, n: number, ms: number, starved: boolean, bytes = 10) {
  for (let i = 0; i < n; i++) w.window.taken(bytes)
  if (starved) w.window.starved()
  w.clock.t += ms
  return w.window.checkpointCompleted()
}

Window('a window that starved the reader doubles each cycle, from the observed rate × interval', () => {
  const w = windowAt()
  assert.is(w.window.current, 100)
  assert.is(cycle(w, 100, 1000, true), 200)
  assert.is(w.window.rate, 100, 'messages per second over the cycle')
  assert.is(cycle(w, 200, 1000, true), 400)
  assert.is(w.window.maxSize, 400)
})

Window(
  'a window that was not the limit does not grow, and shrinks (not below the initial one) when the rate falls',
  () => {
    const w = windowAt()
    assert.is(cycle(w, 100, 1000, false), undefined, 'a slow downstream, not the window, was the limit')
    cycle(w, 100, 1000, true)
    cycle(w, 200, 1000, true)
    assert.is(w.window.current, 400)
    assert.is(cycle(w, 150, 1000, false), undefined, 'within a quarter: kept')
    assert.is(cycle(w, 20, 1000, false), 100, 'the initial window at least')
  },
)

Window('half the byte budget at the average message size bounds the window', () => {
  const w = windowAt({ maxBytes: 10_000 })
  // 100-byte messages: half of 10,000 bytes is 50 messages, below the initial window
  assert.is(cycle(w, 100, 1000, true, 100), 50)
  assert.is(cycle(w, 50, 1000, true, 100), undefined, 'the budget holds it')
  assert.is(w.window.byteBound, 50)
})

Window("the protocol's limit bounds the window, and without checkpointing nothing changes", () => {
  const w = windowAt({ max: 150 })
  assert.is(cycle(w, 100, 1000, true), 150)
  const off = windowAt({ checkpointIntervalMs: undefined })
  assert.is(cycle(off, 100, 1000, true), undefined)
  assert.is(off.window.current, 100)
})

Window("'once-to-budget' grows once, at the first starvation, to half the byte budget, and then never changes", () => {
  const w = windowAt({ growth: 'once-to-budget', maxBytes: 100_000 })
  assert.is(cycle(w, 100, 1000, false), undefined, 'not starved: kept')
  for (let i = 0; i < 100; i++) w.window.taken(10)
  // 10-byte messages: half of 100,000 bytes is 5,000 messages, whatever the rate, and at once
  assert.is(w.window.starved(), 5000, 'grown when starved, not at the next checkpoint')
  assert.is(w.window.current, 5000)
  w.clock.t += 1000
  assert.is(w.window.checkpointCompleted(), undefined, 'the completion changes nothing more')
  assert.is(cycle(w, 5000, 1000, true), undefined, 'starved again: no second change')
  assert.is(w.window.starved(), undefined)
  assert.is(cycle(w, 1, 1000, false), undefined, 'the rate fell: no shrinking')
  assert.is(w.window.current, 5000)
  const capped = windowAt({ growth: 'once-to-budget', maxBytes: 100_000, max: 3000 })
  for (let i = 0; i < 100; i++) capped.window.taken(10)
  assert.is(capped.window.starved(), 3000, 'max bounds it')
  const off = windowAt({ growth: 'once-to-budget', checkpointIntervalMs: undefined })
  off.window.taken(10)
  assert.is(off.window.starved(), undefined, 'without checkpointing nothing changes')
})

Window(
  "'with-rate' grows at the first starvation to twice the rate so far × the interval; later ones wait for a checkpoint",
  () => {
    const w = windowAt({ initial: 100 })
    // the first window of 100 came in 20 ms: 5,000 a second, so 2 × 5,000 × 1 s
    for (let i = 0; i < 100; i++) w.window.taken(10)
    w.clock.t += 20
    assert.is(w.window.starved(), 10_000, 'grown at once, before any checkpoint completed')
    // still dry a while later: no second change at once
    w.clock.t += 500
    assert.is(w.window.starved(), undefined)
    assert.is(w.window.current, 10_000)
    // the cycle ends: 100 messages in 1 s, far below the window, which shrinks to twice that rate × 1 s
    w.clock.t += 480
    assert.is(w.window.checkpointCompleted(), 200, 'twice the rate over the whole cycle')
    for (let i = 0; i < 2000; i++) w.window.taken(10)
    w.clock.t += 20
    assert.is(w.window.starved(), undefined, 'a later starvation does not grow it at once')
    w.clock.t += 980
    assert.is(w.window.checkpointCompleted(), 4000, 'but at the next completed checkpoint')
    const bounded = windowAt({ initial: 100, maxBytes: 20_000 })
    for (let i = 0; i < 100; i++) bounded.window.taken(10)
    bounded.clock.t += 20
    assert.is(bounded.window.starved(), 1000, 'half the byte budget at 10 bytes a message bounds it')
    const dryAtOnce = windowAt()
    dryAtOnce.window.taken(10)
    assert.is(dryAtOnce.window.starved(), undefined, 'no time elapsed: no rate, no change')
  },
)

Window.run()

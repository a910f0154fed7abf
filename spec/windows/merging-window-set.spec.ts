import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ValueStateDescriptor } from '../../lib/state/descriptors.js'
import { KeyGroupRange, keyGroupOf } from '../../lib/state/key-groups.js'
import { KeyedStateBackend } from '../../lib/state/keyed-state-backend.js'
import type { ValueState } from '../../lib/state/value-state.js'
import { eventTimeSessionWindows } from '../../lib/windows/assigners/session.js'
import { MergingWindowSet } from '../../lib/windows/merging-window-set.js'
import { TimeWindow } from '../../lib/windows/time-window.js'

interface Merge {
  result: string
  merged: string[]
  stateResult: string
  mergedState: string[]
}

function setup(): { state: ValueState<[TimeWindow, TimeWindow][]>; open: () => MergingWindowSet<TimeWindow> } {
  const backend = new KeyedStateBackend(new KeyGroupRange(0, 127), () => 0)
  backend.keyContext.set('k', keyGroupOf('k', 128))
  const state = backend.getState(new ValueStateDescriptor<[TimeWindow, TimeWindow][]>('merging'))
  return { state, open: () => new MergingWindowSet(eventTimeSessionWindows(10), state) }
}

function add(set: MergingWindowSet<TimeWindow>, window: TimeWindow, merges: Merge[]): TimeWindow {
  return set.addWindow(window, (result, merged, stateResult, mergedState) =>
    merges.push({
      result: result.id,
      merged: merged.map((w) => w.id),
      stateResult: stateResult.id,
      mergedState: mergedState.map((w) => w.id),
    }),
  )
}

test('a window that overlaps nothing is its own state window', () => {
  const { open } = setup()
  const set = open()
  const merges: Merge[] = []
  const actual = add(set, new TimeWindow(0, 10), merges)
  assert.is(actual.id, '0:10')
  assert.is(set.stateWindow(actual)!.id, '0:10')
  assert.equal(merges, [])
})

test('a window inside an existing one joins it without a merge', () => {
  const { open } = setup()
  const set = open()
  const merges: Merge[] = []
  add(set, new TimeWindow(0, 10), merges)
  assert.is(add(set, new TimeWindow(0, 10), merges).id, '0:10', 'the same window again')
  assert.is(add(set, new TimeWindow(2, 8), merges).id, '0:10', 'a window inside it')
  assert.equal(merges, [])
  assert.equal(
    set.windows().map((w) => w.id),
    ['0:10'],
  )
})

test('a bridging window merges two sessions and keeps one of their state windows', () => {
  const { open } = setup()
  const set = open()
  const merges: Merge[] = []
  add(set, new TimeWindow(0, 10), merges)
  add(set, new TimeWindow(18, 28), merges)
  const actual = add(set, new TimeWindow(9, 19), merges)
  assert.is(actual.id, '0:28')
  assert.equal(merges, [{ result: '0:28', merged: ['0:10', '18:28'], stateResult: '0:10', mergedState: ['18:28'] }])
  assert.is(set.stateWindow(actual)!.id, '0:10', 'contents stay where they were; only the other window moves')
  assert.equal(
    set.windows().map((w) => w.id),
    ['0:28'],
  )
})

test('persists only changes and restores from keyed state', () => {
  const { state, open } = setup()
  const set = open()
  add(set, new TimeWindow(0, 10), [])
  assert.is(state.value(), undefined, 'nothing written before persist')
  set.persist()
  const restored = open()
  assert.equal(
    restored.windows().map((w) => w.id),
    ['0:10'],
  )
  restored.retireWindow(new TimeWindow(0, 10))
  restored.persist()
  assert.is(state.value(), undefined, 'an empty set clears its state')
  assert.throws(() => restored.retireWindow(new TimeWindow(0, 10)), /not in the merging window set/)
})

test.run()

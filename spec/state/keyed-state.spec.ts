import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { KeyedStateBackend } from '../../lib/state/keyed-state-backend.js'
import {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
} from '../../lib/state/descriptors.js'
import { type Key, KeyGroupRange, keyGroupOf, subtaskForKeyGroup } from '../../lib/state/key-groups.js'
import { KeyedSnapshotWriter, restoreKeyedState } from '../../lib/state/keyed-snapshot.js'
import { ConfigError, StateError } from '../../lib/errors.js'
import { storedAndReadBack } from '../support/stored-snapshot.js'
import { TimeWindow } from '../../lib/windows/time-window.js'
import { windowStateSerializer } from '../../lib/windows/window-serializer.js'

function backend(clock = () => 0) {
  const b = new KeyedStateBackend(new KeyGroupRange(0, 127), clock)
  const use = (key: string) => b.keyContext.set(key, keyGroupOf(key, 128))
  return { b, use }
}

test('value state is scoped to the current key and gives the default', () => {
  const { b, use } = backend()
  const count = b.getState(new ValueStateDescriptor<number>('count', { defaultValue: 0 }))
  use('a')
  count.update(count.value()! + 5)
  use('b')
  assert.is(count.value(), 0)
  use('a')
  assert.is(count.value(), 5)
  count.clear()
  assert.is(count.value(), 0)
})

test('list, map, reducing and aggregating state', () => {
  const { b, use } = backend()
  use('k')
  const list = b.getListState(new ListStateDescriptor<number>('l'))
  list.add(1)
  list.addAll([2, 3])
  assert.equal(list.get(), [1, 2, 3])
  list.update([])
  assert.equal(list.get(), [])
  const map = b.getMapState(new MapStateDescriptor<string, number>('m'))
  map.put('x', 1)
  map.put('y', 2)
  map.remove('x')
  assert.equal([...map.entries()], [['y', 2]])
  assert.ok(map.contains('y'))
  assert.not.ok(map.isEmpty())
  const sum = b.getReducingState(new ReducingStateDescriptor<number>('r', (a, c) => a + c))
  sum.add(3)
  sum.add(4)
  assert.is(sum.get(), 7)
  const avg = b.getAggregatingState(
    new AggregatingStateDescriptor('avg', {
      createAccumulator: () => [0, 0] as [number, number],
      add: (v: number, [s, n]: [number, number]) => [s + v, n + 1] as [number, number],
      getResult: ([s, n]: [number, number]) => s / n,
    }),
  )
  avg.add(2)
  avg.add(4)
  assert.is(avg.get(), 3)
})

test('state entries live in the table of their key group', () => {
  const { b, use } = backend()
  const v = b.getState(new ValueStateDescriptor<string>('v'))
  use('alpha')
  v.update('A')
  const table = b.table('v')!
  assert.equal([...table.entries(keyGroupOf('alpha', 128))], [['alpha', 'A']])
  assert.is(table.size, 1)
})

test('a TTL expires entries after ttlMs of processing time, on write or on read and write', () => {
  let now = 0
  const { b, use } = backend(() => now)
  const onWrite = b.getState(new ValueStateDescriptor<number>('w', { ttl: { ttlMs: 100 } }))
  const onRead = b.getState(new ValueStateDescriptor<number>('r', { ttl: { ttlMs: 100, updateOn: 'read-and-write' } }))
  use('k')
  onWrite.update(1)
  onRead.update(1)
  now = 60
  assert.is(onWrite.value(), 1)
  assert.is(onRead.value(), 1)
  now = 120
  assert.is(onWrite.value(), undefined, 'expired 100 ms after the write')
  assert.is(onRead.value(), 1, 'the read at 60 restarted its clock')
  now = 300
  assert.is(onRead.value(), undefined)
})

test('declaring one name as two kinds of state fails clearly', () => {
  const { b } = backend()
  b.getState(new ValueStateDescriptor('x'))
  assert.throws(
    () => b.getListState(new ListStateDescriptor('x')),
    (e: unknown) => e instanceof StateError && /value state/.test((e as Error).message),
  )
  assert.throws(
    () => new ValueStateDescriptor(''),
    (e: unknown) => e instanceof ConfigError,
  )
})

test('key group ranges cover all groups exactly once and agree with the owner function', () => {
  for (const parallelism of [1, 2, 3, 7, 128]) {
    let next = 0
    for (let s = 0; s < parallelism; s++) {
      const r = KeyGroupRange.forSubtask(128, parallelism, s)
      assert.is(r.start, next)
      for (let g = r.start; g <= r.end; g++) assert.is(subtaskForKeyGroup(128, parallelism, g), s)
      next = r.end + 1
    }
    assert.is(next, 128)
  }
  assert.throws(
    () => keyGroupOf({} as never, 128),
    (e: unknown) => e instanceof ConfigError,
  )
})

test('key-group assignments of fixed keys never change: checkpoints store state by key group', () => {
  // Pinned as Flink pins KeyGroupRangeAssignment: a change here makes every existing checkpoint restore
  // keys into the wrong key groups. [key, at 128, at 32768, at 7] key groups.
  const pinned: Array<[Key, number, number, number]> = [
    ['user-1', 64, 9536, 2],
    ['alpha', 51, 24627, 6],
    ['', 0, 0, 0],
    ['ü-ñ', 17, 7185, 5],
    ['a|b', 14, 3854, 5],
    [0, 0, 0, 0],
    [1, 55, 10423, 6],
    [-1, 57, 28473, 6],
    [42, 92, 19804, 5],
    [3.5, 37, 30885, 5],
    [2 ** 40, 9, 22153, 3],
    [10n, 90, 23130, 6],
    [true, 104, 21352, 2],
    [false, 123, 24187, 0],
  ]
  for (const [key, at128, at32768, at7] of pinned) {
    assert.is(keyGroupOf(key, 128), at128, `${String(key)} at 128`)
    assert.is(keyGroupOf(key, 32768), at32768, `${String(key)} at 32768`)
    assert.is(keyGroupOf(key, 7), at7, `${String(key)} at 7`)
  }
  assert.is(subtaskForKeyGroup(128, 4, keyGroupOf('user-1', 128)), 2, 'user-1 runs on subtask 2 of 4')
})

test("during a snapshot the live copy of a value is the serializer's, so classes and Buffers stay themselves (TTL too)", () => {
  const { b, use } = backend()
  const windows = b.getState(new ValueStateDescriptor<TimeWindow[]>('windows', { serializer: windowStateSerializer }))
  const bytes = b.getState(new ValueStateDescriptor<Buffer>('bytes', { ttl: { ttlMs: 60_000 } }))
  use('k')
  windows.update([new TimeWindow(0, 10)])
  bytes.update(Buffer.from('abc'))
  // no touch budget: the first read of a group not yet written copies the value for the live side
  const writer = new KeyedSnapshotWriter(b, undefined, 0)
  const live = windows.value()!
  assert.ok(live[0] instanceof TimeWindow, 'the live window is still a TimeWindow')
  assert.is(live[0]!.maxTimestamp(), 9)
  live.push(new TimeWindow(10, 20)) // an in-place change after the barrier
  assert.ok(Buffer.isBuffer(bytes.value()), 'the live value is still a Buffer')
  assert.is(bytes.value()!.toString(), 'abc')
  while (!writer.step(1));
  const restored = new KeyedStateBackend(new KeyGroupRange(0, 127), () => 0)
  restoreKeyedState(restored, undefined, [storedAndReadBack(writer.result())])
  restored.keyContext.set('k', keyGroupOf('k', 128))
  const rWindows = restored.getState(
    new ValueStateDescriptor<TimeWindow[]>('windows', { serializer: windowStateSerializer }),
  )
  assert.equal(
    rWindows.value()!.map((w) => w.id),
    ['0:10'],
    'the snapshot holds the value as of the barrier',
  )
})

for (const [how, touchBudgetMs] of [
  ['groups written at once when it begins', 50],
  ['copy on write per entry, no touch budget', 0],
] as const) {
  test(`a snapshot holds the state as of its start while records change it (${how})`, () => {
    const { b, use } = backend()
    const count = b.getState(new ValueStateDescriptor<number>('count'))
    const seen = b.getListState(new ListStateDescriptor<string>('seen'))
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`)
    for (const k of keys) {
      use(k)
      count.update(1)
      seen.add('before')
    }
    const writer = new KeyedSnapshotWriter(b, undefined, touchBudgetMs)
    writer.step(0) // without a budget: writes one group now, the rest later
    for (const k of keys) {
      use(k)
      count.update(count.value()! + 1) // overwrite
      seen.add('after') // in-place change of a list obtained during the snapshot
    }
    use('k0')
    count.clear() // a removal
    use('new')
    count.update(99) // a key that did not exist at the start
    while (!writer.step(1));
    const snapshot = writer.result()
    const restored = new KeyedStateBackend(new KeyGroupRange(0, 127), () => 0)
    restoreKeyedState(restored, undefined, [storedAndReadBack(snapshot)])
    const rCount = restored.getState(new ValueStateDescriptor<number>('count'))
    const rSeen = restored.getListState(new ListStateDescriptor<string>('seen'))
    for (const k of keys) {
      restored.keyContext.set(k, keyGroupOf(k, 128))
      assert.is(rCount.value(), 1, k)
      assert.equal(rSeen.get(), ['before'], k)
    }
    restored.keyContext.set('new', keyGroupOf('new', 128))
    assert.is(rCount.value(), undefined)
    // and the live state has every change
    use('k1')
    assert.is(count.value(), 2)
    assert.equal(seen.get(), ['before', 'after'])
    use('k0')
    assert.is(count.value(), undefined)
    use('new')
    assert.is(count.value(), 99)
  })
}

test.run()

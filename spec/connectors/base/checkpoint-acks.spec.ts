import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { CheckpointAcks } from '../../../lib/connectors/base/checkpoint-acks.js'
import { ConfirmWindow } from '../../../lib/connectors/base/confirm-window.js'
import { StateError } from '../../../lib/errors.js'

/**
 * The broker-independent bookkeeping shared by the RabbitMQ and ActiveMQ connectors: which handles a
 * completed checkpoint acknowledges, which ids deduplicate redeliveries, and the publish window of
 * the sinks. The connectors' behaviour on real brokers is tested in source/sink specs.
 */
const Acks = suite('checkpoint acknowledgements')

Acks(
  'a completed checkpoint hands out the handles taken before its barrier, and a later one subsumes a lost notice',
  () => {
    const acks = new CheckpointAcks<number>(false, 1000, () => 0)
    acks.take(1, undefined)
    acks.take(2, undefined)
    acks.snapshot(1)
    acks.take(3, undefined)
    acks.snapshot(2)
    acks.take(4, undefined)
    assert.is(acks.unacknowledged, 4)
    const done = acks.complete(2)
    assert.equal(done.handles, [[1, 2], [3]])
    assert.is(done.count, 3)
    assert.is(acks.unacknowledged, 1)
    assert.is(acks.complete(2).count, 0, 'nothing twice')
    acks.snapshot(3)
    assert.equal(acks.complete(3).handles, [[4]])
  },
)

Acks('the bytes of taken handles count until their checkpoint completes or the connection is lost', () => {
  const acks = new CheckpointAcks<number>(false, 1000, () => 0)
  acks.take(1, undefined, 100)
  acks.take(2, undefined, 50)
  acks.snapshot(1)
  acks.take(3, undefined, 7)
  assert.is(acks.unacknowledgedBytes, 157)
  acks.complete(1)
  assert.is(acks.unacknowledgedBytes, 7)
  acks.connectionLost()
  assert.is(acks.unacknowledgedBytes, 0)
  acks.snapshot(2)
  acks.complete(2)
  assert.is(acks.unacknowledgedBytes, 0, 'a voided bucket gives nothing back twice')
})

Acks('at-least-once keeps no ids in the checkpoint', () => {
  const acks = new CheckpointAcks<number>(false, 1000, () => 0)
  acks.take(1, 'a')
  assert.equal(acks.snapshot(1), [])
})

Acks(
  'exactly-once: an id stays remembered until its acknowledgement is confirmed, and a remembered id is a duplicate',
  () => {
    const acks = new CheckpointAcks<number>(true, 1000, () => 0)
    assert.ok(acks.take(1, 'a'))
    assert.ok(acks.take(2, 'b'))
    assert.not.ok(acks.take(3, 'a'), 'a again is a duplicate')
    assert.equal(acks.snapshot(1), [
      {
        v: 1,
        ids: [
          ['a', 0],
          ['b', 0],
        ],
      },
    ])
    const done = acks.complete(1)
    assert.equal(done.handles, [[1, 2, 3]], 'the duplicate is acknowledged too')
    assert.is(acks.rememberedIds, 2, 'remembered until confirmed')
    done.confirm()
    assert.is(acks.rememberedIds, 0)
    assert.ok(acks.take(4, 'a'), 'after confirmation the id is new again')
  },
)

Acks('a restored reader recognises the ids of its checkpoint; they expire after the retention', () => {
  let now = 1_000
  const first = new CheckpointAcks<number>(true, 500, () => now)
  first.take(1, 'a')
  first.take(2, 'b')
  const state = first.snapshot(1)
  const restored = new CheckpointAcks<number>(true, 500, () => now, state)
  assert.not.ok(restored.take(10, 'a'), 'redelivery of a is skipped')
  assert.ok(restored.take(11, 'c'))
  restored.snapshot(2)
  now += 600
  restored.complete(2).confirm()
  assert.is(restored.rememberedIds, 0, 'b never came again and expired; a and c were confirmed')
})

Acks('a lost connection voids the handles and orphans the pending ids; the redelivery is skipped', () => {
  const acks = new CheckpointAcks<number>(true, 1000, () => 5)
  acks.take(1, 'a')
  acks.snapshot(1)
  acks.take(2, 'b')
  const inFlight = acks.complete(1)
  acks.connectionLost()
  assert.is(acks.unacknowledged, 0)
  inFlight.confirm() // a confirmation from the lost connection changes nothing
  assert.is(acks.rememberedIds, 2)
  assert.equal(acks.snapshot(2), [
    {
      v: 1,
      ids: [
        ['a', 5],
        ['b', 5],
      ],
    },
  ])
  assert.not.ok(acks.take(1, 'a'), 'redelivered a')
  assert.not.ok(acks.take(2, 'b'), 'redelivered b')
  assert.ok(acks.take(3, 'c'))
  acks.snapshot(3)
  const done = acks.complete(3)
  assert.equal(done.handles, [[1, 2, 3]], 'only handles of the new connection')
  done.confirm()
  assert.is(acks.rememberedIds, 0)
})

Acks('a state of an unknown version is a StateError', () => {
  assert.throws(
    () => new CheckpointAcks<number>(true, 1, () => 0, [{ v: 9 }]),
    (e: unknown) => e instanceof StateError,
  )
})

const Window = suite('confirm window')
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

Window('confirms singly, out of order and cumulatively; waiters wake when empty or below a limit', async () => {
  const w = new ConfirmWindow<string>()
  for (const m of ['a', 'b', 'c', 'd']) w.add(m)
  let empty = false
  let room = false
  void w.whenEmpty().then(() => (empty = true))
  void w.whenBelow(4).then(() => (room = true))
  w.confirm(3, false)
  await tick()
  assert.ok(room)
  assert.is(w.size, 3)
  w.confirm(2, true)
  assert.is(w.size, 1)
  assert.is(w.get(4), 'd')
  w.confirm(4, false)
  await tick()
  assert.ok(empty)
})

Window('a new connection resends the unconfirmed messages numbered from 1, before later ones', () => {
  const w = new ConfirmWindow<string>()
  for (const m of ['a', 'b', 'c']) w.add(m)
  w.confirm(2, false)
  assert.equal(w.rewind(), ['a', 'c'])
  assert.is(w.add('d'), 3)
  w.confirm(2, true)
  assert.equal(w.rewind(), ['d'])
  assert.is(w.size, 1)
})

Window('a failure rejects every waiter', async () => {
  const w = new ConfirmWindow<string>()
  w.add('a')
  const waiting = w.whenEmpty()
  w.fail(new Error('gone'))
  await waiting.then(
    () => assert.unreachable(),
    (e: Error) => assert.is(e.message, 'gone'),
  )
})

Acks.run()
Window.run()

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { type AckPacket, DeferredAcks } from '../../../lib/connectors/mqtt/deferred-acks.js'

/**
 * The held acknowledgements of the MQTT source, without a broker: a redelivery (DUP) of a held id is
 * skipped, a new message on a held id (no DUP: the broker reused the id) is taken in and reported, and
 * each message is acknowledged by its own checkpoint only.
 */
const Acks = suite('deferred acknowledgements')

function acksUnderTest(): { acks: DeferredAcks; sent: AckPacket[]; reused: number[] } {
  const sent: AckPacket[] = []
  const reused: number[] = []
  const acks = new DeferredAcks(
    (packet) => sent.push(packet),
    () => true,
    (id) => reused.push(id),
  )
  return { acks, sent, reused }
}

const puback = (messageId: number) => ({ cmd: 'puback', messageId, reasonCode: 0 })

Acks('a redelivery (DUP) of a held id is skipped; the PUBACK waits for the checkpoint covering the message', () => {
  const { acks, sent, reused } = acksUnderTest()
  assert.is(acks.isRedelivery(7, false), false)
  const held = acks.track(7)
  assert.ok(acks.intercept(puback(7)), 'held back')
  assert.ok(acks.isRedelivery(7, true), 'the same message again')
  acks.emitted(held)
  acks.barrier(1)
  assert.equal(sent, [])
  acks.complete(1)
  assert.equal(sent, [{ cmd: 'puback', messageId: 7, reasonCode: 0 }])
  assert.equal(reused, [])
  assert.is(acks.size, 0)
})

Acks('a new message (no DUP) on a held id is taken in, reported, and acknowledged by its own checkpoint only', () => {
  const { acks, sent, reused } = acksUnderTest()
  const first = acks.track(7)
  assert.ok(acks.intercept(puback(7)))
  acks.emitted(first)
  acks.barrier(1)
  // the broker sends a new message on id 7 before it got the PUBACK of the first
  assert.is(acks.isRedelivery(7, false), false, 'not a redelivery: taken in, not dropped')
  assert.equal(reused, [7], 'reported')
  const second = acks.track(7)
  assert.ok(acks.intercept(puback(7)), 'its PUBACK is held back too')
  acks.complete(1)
  assert.equal(sent, [], "the first message's checkpoint does not acknowledge the second")
  acks.emitted(second)
  acks.barrier(2)
  acks.complete(2)
  assert.equal(sent, [{ cmd: 'puback', messageId: 7, reasonCode: 0 }], 'one PUBACK for the id, at its own checkpoint')
  assert.is(acks.size, 0)
})

Acks('a message emitted after its id was reused is not covered by a barrier (it no longer stands for the id)', () => {
  const { acks, sent } = acksUnderTest()
  const first = acks.track(9)
  acks.isRedelivery(9, false)
  const second = acks.track(9)
  acks.intercept(puback(9))
  acks.emitted(first)
  acks.barrier(1)
  acks.complete(1)
  assert.equal(sent, [], 'the stale entry acknowledges nothing')
  acks.emitted(second)
  acks.barrier(2)
  acks.complete(2)
  assert.is(sent.length, 1)
})

Acks.run()

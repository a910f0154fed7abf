import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { jsonSerializer } from '../../lib/state/serializers/json-serializer.js'

/** The default state serializer: what it writes must survive JSON text and come back equal. */
const Json = suite('json state serializer')

const roundTrip = (value: unknown): unknown =>
  jsonSerializer.deserialize(JSON.parse(JSON.stringify(jsonSerializer.serialize(value))), 1)

Json('Map, Set, bigint, Date, undefined and non-finite numbers come back as they were', () => {
  const value = {
    m: new Map<unknown, unknown>([
      ['a', 1n],
      [2, new Set(['x'])],
    ]),
    d: new Date(1_700_000_000_000),
    u: [undefined, 1],
    n: [Infinity, -Infinity, NaN],
  }
  const back = roundTrip(value) as typeof value
  assert.equal(back.m, value.m)
  assert.ok(back.d instanceof Date && back.d.getTime() === value.d.getTime())
  assert.equal(back.u, [undefined, 1])
  assert.equal(back.n[0], Infinity)
  assert.equal(back.n[1], -Infinity)
  assert.ok(Number.isNaN(back.n[2]))
})

Json('Buffers come back as Buffers and Uint8Arrays as Uint8Arrays, also views into larger memory', () => {
  const pool = Buffer.from('0123456789')
  const value = {
    payload: Buffer.from([0, 1, 254, 255]),
    view: pool.subarray(3, 6),
    bytes: new Uint8Array([7, 8, 9]),
    empty: Buffer.alloc(0),
  }
  const back = roundTrip(value) as typeof value
  assert.ok(Buffer.isBuffer(back.payload))
  assert.equal([...back.payload], [0, 1, 254, 255])
  assert.equal(back.view.toString(), '345', 'only the bytes of the view, not the whole pool')
  assert.ok(back.bytes instanceof Uint8Array && !Buffer.isBuffer(back.bytes))
  assert.equal([...back.bytes], [7, 8, 9])
  assert.equal(back.empty.length, 0)
})

Json('an unknown tag is reported as corrupt state', () => {
  assert.throws(() => jsonSerializer.deserialize({ $sluice: 'nope' }, 1), /unknown tag nope/)
  assert.throws(() => jsonSerializer.deserialize(1, 2), /version 2/)
})

Json.run()

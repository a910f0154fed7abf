import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { IdRing, isTweetId } from '../../../lib/connectors/twitter/id-ring.js'

const Ring = suite('twitter id ring')

Ring("isTweetId accepts X's decimal ids only: 1 to 19 digits, no leading zero", () => {
  for (const id of ['0', '7', '1460323737035677698', '9999999999999999999']) assert.ok(isTweetId(id), id)
  for (const id of ['', '007', '-1', '1e3', ' 1', 'abc', '14603237370356776981', '1.5'])
    assert.not.ok(isTweetId(id), id)
})

Ring('ids that share their last nine digits or their high digits stay apart; text gives them back as added', () => {
  const ring = new IdRing()
  const ids = ['1460323737035677698', '1460323738035677698', '1460323737035677699', '35677698', '1000000000', '0']
  for (const id of ids) assert.ok(ring.add(id), id)
  for (const id of ids) assert.not.ok(ring.add(id), `${id} again`)
  assert.is(ring.size, ids.length)
  assert.is(ring.text(0, ring.end), ids.join(' '))
  assert.is(ring.text(1, 3), ids.slice(1, 3).join(' '))
})

Ring('forgotten ids are new again; many adds and forgets agree with a Set (growth, rebuilds, tombstones)', () => {
  const ring = new IdRing()
  const model: string[] = []
  const added = new Map<string, number>()
  let seed = 1
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return seed / 2 ** 32
  }
  // snowflake-like ids: a few thousand distinct, so that re-adds and re-adds after forgetting happen
  const idOf = (k: number): string =>
    `${1460323737035 + (k % 50)}${String((677698 + Math.floor(k / 50) * 4099) % 1_000_000).padStart(6, '0')}`
  let forgotten = 0
  for (let step = 0; step < 100_000; step++) {
    const id = idOf(Math.floor(random() * 6000))
    const known = (added.get(id) ?? -1) >= forgotten
    assert.is(ring.add(id), !known, `step ${step}: ${id}`)
    if (!known) added.set(id, model.push(id) - 1)
    if (random() < 0.01) {
      forgotten = Math.min(model.length, forgotten + Math.floor(random() * 3000))
      ring.forgetBefore(forgotten)
    }
    if (step % 10_000 === 0) assert.is(ring.text(ring.start, ring.end), model.slice(forgotten).join(' '))
  }
  assert.is(ring.size, model.length - forgotten)
  assert.ok(model.length > 10_000, `${model.length} ids added: the ring grew and the index was rebuilt`)
})

Ring.run()

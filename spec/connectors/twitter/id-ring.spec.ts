import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { IdRing, isTweetId } from '../../../lib/connectors/twitter/id-ring.js'

const Ring = suite('twitter id ring')

Ring("isTweetId accepts X's decimal ids only: 1 to 19 digits, no leading zero", () => {
  for (const id of ['0', '7', '1460323737035677698', '9999999999999999999']) assert.ok(isTweetId(id), id)
  for (const id of ['', '007', '-1', '1e3', ' 1', 'abc', '14603237370356776981', '1.5'])
    assert.not.ok(isTweetId(id), id)
})

/** The ids of `text` as decimal strings, read back through a fresh ring. */
function decoded(text: string): string[] {
  const ring = new IdRing()
  ring.addText(text, 'delta')
  return ring.text(ring.start, ring.end) === text ? decimal(ring) : ['text not reproduced']
}

/** A ring's ids in decimal, from its text with every id whole (a fresh ring per id). */
function decimal(ring: IdRing): string[] {
  const ids: string[] = []
  for (let seq = ring.start; seq < ring.end; seq++) ids.push(ring.text(seq, seq + 1))
  return ids
}

Ring('ids that share their last nine digits or their high digits stay apart; text reads back to the same ids', () => {
  const ring = new IdRing()
  const ids = ['1460323737035677698', '1460323738035677698', '1460323737035677699', '35677698', '1000000000', '0']
  for (const id of ids) assert.ok(ring.add(id), id)
  for (const id of ids) assert.not.ok(ring.add(id), `${id} again`)
  assert.is(ring.size, ids.length)
  assert.equal(decimal(ring), ids)
  assert.equal(decoded(ring.text(0, ring.end)), ids)
  assert.equal(decoded(ring.text(1, 3)), ids.slice(1, 3))
})

Ring('text: differences in base 36, negative ones with -, ids far apart whole after =; a bad token is refused', () => {
  const ring = new IdRing()
  // + 2^22, - 2^23, then ids more than 2^52 away, then + 1
  const ids = ['1460323737035677698', '1460323737039872002', '1460323737031483394', '9999999999999999999', '7', '8']
  for (const id of ids) ring.add(id)
  const text = ring.text(ring.start, ring.end)
  assert.is(text, '1460323737035677698 2hwcg -4zsow =9999999999999999999 =7 1')
  assert.equal(decoded(text), ids)
  try {
    new IdRing().addText('1460323737035677698 2h$4', 'delta')
    assert.unreachable('a bad token')
  } catch (error) {
    assert.is((error as { code?: string }).code, 'ERR_STATE_CORRUPT')
  }
  const v1 = new IdRing()
  v1.addText('12 not-an-id 0042 13', 'decimal')
  assert.equal(decimal(v1), ['12', '13'], 'state v1: what is not a tweet id is skipped')
})

Ring('snowflake ids a few ms apart take about a third of their decimal size', () => {
  const ring = new IdRing()
  const ids: string[] = []
  let id = 1460323737035677698n
  for (let i = 0; i < 1000; i++) {
    id += BigInt(((i * 7919) % 40) + 1) * 4194304n + BigInt(i % 4096)
    ids.push(String(id))
    ring.add(String(id))
  }
  const text = ring.text(ring.start, ring.end)
  assert.equal(decoded(text), ids)
  assert.ok(text.length * 2.5 < ids.join(' ').length, `${text.length} vs ${ids.join(' ').length} characters`)
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
    if (step % 10_000 === 0) assert.equal(decoded(ring.text(ring.start, ring.end)), model.slice(forgotten))
  }
  assert.is(ring.size, model.length - forgotten)
  assert.ok(model.length > 10_000, `${model.length} ids added: the ring grew and the index was rebuilt`)
})

Ring.run()

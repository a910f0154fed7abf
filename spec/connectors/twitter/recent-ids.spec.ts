import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { RecentIds } from '../../../lib/connectors/twitter/index.js'

const Ids = suite('twitter recent ids')

Ids('a duplicate within the window is recognised; segments older than the window are forgotten', () => {
  const ids = new RecentIds(60_000)
  assert.ok(ids.add('1', 0))
  assert.ok(ids.add('2', 10))
  assert.not.ok(ids.add('1', 20), 'emitted already')
  assert.equal(ids.snapshot(100), [{ at: 100, ids: '1 1' }], '2 written as its difference from 1')
  assert.ok(ids.add('3', 30_000))
  assert.equal(ids.snapshot(30_000), [
    { at: 100, ids: '1 1' },
    { at: 30_000, ids: '3' },
  ])
  ids.add('4', 60_200)
  const later = ids.snapshot(60_200)
  assert.equal(
    later,
    [
      { at: 30_000, ids: '3' },
      { at: 60_200, ids: '4' },
    ],
    'the segment of 1 and 2 (newest at 100) is past the window',
  )
  assert.ok(ids.add('1', 60_300), '1 is forgotten: a backfill cannot bring it any more')
  assert.not.ok(ids.add('3', 60_300))
})

Ids('restored segments are known again, decimal ones (state v1) written anew; a window of 0 keeps nothing', () => {
  const restored = new RecentIds(60_000, [{ at: 5, ids: '7 1 1' }])
  assert.is(restored.size, 3)
  assert.not.ok(restored.add('8', 10))
  assert.ok(restored.add('10', 10))
  const v1 = new RecentIds(60_000, [{ at: 5, ids: '1460323737035677698 1460323737039872002' }], 'decimal')
  assert.not.ok(v1.add('1460323737039872002', 10))
  assert.equal(v1.snapshot(20)[0], { at: 5, ids: '1460323737035677698 2hwcg' })
  const none = new RecentIds(0, [{ at: 5, ids: '7 1 1' }])
  assert.ok(none.add('8', 10))
  assert.ok(none.add('8', 10), 'without backfill nothing is remembered')
  assert.equal(none.snapshot(20), [])
})

Ids('without checkpoints, the open segment closes every 8192 ids, so memory stays bounded by the window', () => {
  const ids = new RecentIds(1000)
  for (let i = 0; i < 8192 * 3; i++) ids.add(String(i), i < 8192 ? 0 : 5000 + i)
  assert.ok(ids.size <= 8192 * 2, `${ids.size} ids kept`)
  assert.ok(ids.add('0', 40_000), 'the first segment is forgotten')
})

Ids.run()

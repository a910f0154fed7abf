import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { BlockKind } from '../../lib/state/binary-layout.js'
import { readBlocks } from '../../lib/state/block-reader.js'
import { BlockWriter } from '../../lib/state/block-writer.js'

test('a column of numbers that turns mixed keeps its earlier rows as numbers, after a block that left other tags', () => {
  const w = new BlockWriter(64)
  // the first block tags every row of both columns as not a number
  w.begin(BlockKind.STATE, 'names', 2)
  for (let i = 0; i < 5; i++) w.row2(`k${i}`, i % 2 === 0)
  w.end()
  const first = w.length
  // the second starts with number rows (written untagged), then a string and null turn its columns mixed
  w.begin(BlockKind.STATE, 'count', 2)
  for (let i = 0; i < 5; i++) w.row2Numbers(i, i * 10)
  w.row2(5, 'five')
  w.row2('six', null)
  w.row2Numbers(7, 70)
  w.end()
  const data = w.bytes()
  assert.equal(readBlocks(data, 0, first).states.names, ['k0', true, 'k1', false, 'k2', true, 'k3', false, 'k4', true])
  const count = [0, 0, 1, 10, 2, 20, 3, 30, 4, 40, 5, 'five', 'six', null, 7, 70]
  assert.equal(readBlocks(data, first, data.length - first).states.count, count)
})

test('a block of number rows only is stored as number columns', () => {
  const w = new BlockWriter(64)
  w.begin(BlockKind.STATE, 'count', 2)
  for (let i = 0; i < 3000; i++) w.row2Numbers(i, -i / 4)
  w.end()
  const rows = readBlocks(w.bytes(), 0, w.length).states.count!
  assert.is(rows.length, 6000)
  assert.is(rows[5998], 2999)
  assert.is(rows[5999], -2999 / 4)
  // header (12 bytes and the name, to a multiple of 8), the keys as 3000 int32, the values as 3000 float64: no tags, no heap
  assert.is(w.length, 24 + (8 + 3000 * 4) + (8 + 3000 * 8))
})

test('a column of int32 numbers only is stored as int32; a row outside int32, a fraction or −0 keeps it float64', () => {
  const edges = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31)]
  const w = new BlockWriter(64)
  w.begin(BlockKind.STATE, 'ints', 2)
  for (let i = 0; i < 1001; i++) w.row2Numbers(i, edges[i % edges.length]!)
  w.end()
  // 1001 int32 rows pad to 4008 bytes: both columns int32
  assert.is(w.length, 16 + 2 * (8 + 4008))
  const ints = readBlocks(w.bytes(), 0, w.length).states.ints!
  for (let i = 0; i < 1001; i++) {
    assert.is(ints[2 * i], i)
    assert.is(ints[2 * i + 1], edges[i % edges.length])
  }
  for (const odd of [2 ** 31, -(2 ** 31) - 1, 0.5, -0, Number.NaN]) {
    const v = new BlockWriter(64)
    v.begin(BlockKind.STATE, 'v', 2)
    v.row2Numbers(1, 7)
    v.row2(2, odd)
    v.row2Numbers(3, 9)
    v.end()
    // keys int32 (3 rows, padded to 16 bytes), values float64
    assert.is(v.length, 16 + (8 + 16) + (8 + 3 * 8), `${odd}`)
    const rows = readBlocks(v.bytes(), 0, v.length).states.v!
    assert.ok(Object.is(rows[3], odd), `${odd} read back as ${rows[3]}`)
    assert.equal([rows[0], rows[1], rows[2], rows[4], rows[5]], [1, 7, 2, 3, 9])
  }
})

test('a block after an int32 one starts as int32 again, and a float64 column does not leak into the next block', () => {
  const w = new BlockWriter(64)
  w.begin(BlockKind.STATE, 'a', 2)
  w.row2Numbers(1, 1.5)
  w.end()
  const first = w.length
  w.begin(BlockKind.STATE, 'b', 2)
  w.row2Numbers(2, 3)
  w.end()
  assert.is(w.length - first, 16 + 2 * (8 + 8))
  assert.equal(readBlocks(w.bytes(), first, w.length - first).states.b, [2, 3])
  assert.equal(readBlocks(w.bytes(), 0, first).states.a, [1, 1.5])
})

test.run()

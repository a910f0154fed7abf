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
  // header (12 bytes and the name, to a multiple of 8) + two columns of a kind word and 3000 float64s: no tags, no heap
  assert.is(w.length, 24 + 2 * (8 + 3000 * 8))
})

test.run()

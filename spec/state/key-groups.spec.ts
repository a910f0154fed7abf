import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type Key, keyGroupOf } from '../../lib/state/key-groups.js'

/** Keys of every kind: small and negative integers, strings, fractions, integers beyond int32, the rest. */
function keys(): Key[] {
  const out: Key[] = []
  for (let i = 0; i < 4_000; i++) out.push(i, -i * 7919, `user-${i}`, i + 0.5, 2 ** 31 + i)
  out.push(true, false, 123n, 'é✓')
  return out
}

// Digests of keyGroupOf over keys(), written by the implementation that computed (hash >>> 0) % maxParallelism
// in doubles: checkpoints store state per key group, so the groups must never change.
const DIGESTS: ReadonlyArray<[maxParallelism: number, digest: number]> = [
  [1, 0],
  [7, 1738069136],
  [128, 1898002741],
  [1000, 949262317],
  [4096, 1379589941],
  [32768, 1055633205],
]

test('keyGroupOf gives every key the key group it had in earlier checkpoints, for any maxParallelism', () => {
  const all = keys()
  for (const [maxParallelism, expected] of DIGESTS) {
    let digest = 0
    for (const key of all) digest = (Math.imul(digest, 31) + keyGroupOf(key, maxParallelism)) | 0
    assert.is(digest, expected, `maxParallelism ${maxParallelism}`)
  }
  assert.equal(
    [keyGroupOf('user-1', 128), keyGroupOf(42, 128), keyGroupOf(-1, 32768), keyGroupOf(2 ** 40, 1000)],
    [64, 92, 28473, 745],
  )
})

test.run()

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ReconnectLoop } from '../../../lib/connectors/base/reconnect-loop.js'
import { connectionRetry } from '../../../lib/connectors/base/retry-options.js'
import { ManualClock } from '../../time/manual-clock.js'

const Loop = suite('reconnect loop')
const turn = () => new Promise((resolve) => setImmediate(resolve))

Loop('retryDelay chooses the delay per cause and retry; undefined falls back to the backoff', async () => {
  const clock = new ManualClock(0)
  const causes = [new Error('network'), new Error('http'), new Error('network')]
  let attempts = 0
  const seen: Array<[string, number]> = []
  const connected: string[] = []
  const loop = new ReconnectLoop<string>(
    connectionRetry('toy', { initialDelayMs: 1000, maxDelayMs: 60_000 }),
    clock,
    'toy 127.0.0.1:1',
    async () => {
      const cause = causes[attempts++]
      if (cause !== undefined) throw cause
      return 'connection'
    },
    {
      connected: (c) => void connected.push(c),
      failed: () => assert.unreachable('no failure'),
      discard: () => {},
      retryDelay: (cause, retry) => {
        seen.push([(cause as Error).message, retry])
        return (cause as Error).message === 'network' ? 250 * (retry + 1) : undefined
      },
    },
  )
  loop.start()
  await turn()
  clock.advanceBy(249)
  assert.is(attempts, 1, 'network: 250 ms for retry 0')
  clock.advanceBy(1)
  assert.is(attempts, 2)
  await turn()
  clock.advanceBy(1999)
  assert.is(attempts, 2, 'http: the backoff, 1000 · 2¹ for retry 1')
  clock.advanceBy(1)
  assert.is(attempts, 3)
  await turn()
  clock.advanceBy(750)
  assert.is(attempts, 4, 'network: 750 ms for retry 2')
  await turn()
  assert.equal(connected, ['connection'])
  assert.equal(seen, [
    ['network', 0],
    ['http', 1],
    ['network', 2],
  ])
  loop.close()
})

Loop.run()

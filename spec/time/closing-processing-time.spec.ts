import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ClosingProcessingTime } from '../../lib/time/closing-processing-time.js'
import { ManualClock } from './manual-clock.js'

test('before close, callbacks run on the wrapped time; a cancelled one never runs', () => {
  const clock = new ManualClock(0)
  const time = new ClosingProcessingTime(clock)
  const ran: string[] = []
  time.scheduleAt(100, () => ran.push('a'))
  const cancel = time.scheduleAt(50, () => ran.push('cancelled'))
  cancel()
  clock.advanceTo(99)
  assert.equal(ran, [])
  clock.advanceTo(100)
  assert.equal(ran, ['a'])
  assert.is(time.now(), 100)
})

test('close runs every waiting callback at once, each once, even though the wrapped time never fires', async () => {
  const clock = new ManualClock(0) // never advanced: a cancelled attempt's mailbox timers
  const time = new ClosingProcessingTime(clock)
  const ran: string[] = []
  time.scheduleAt(10_000, () => ran.push('backoff'))
  time.scheduleAt(20_000, () => ran.push('poll'))
  time.close()
  assert.equal(ran, ['backoff', 'poll'])
  clock.advanceTo(30_000)
  assert.equal(ran, ['backoff', 'poll'], 'not a second time when the wrapped time fires after all')
  const later = new Promise<void>((resolve) => time.scheduleAt(time.now() + 60_000, resolve))
  await later // scheduled after close: runs on the next turn, not in a minute
  const cancelled = time.scheduleAt(0, () => ran.push('cancelled after close'))
  cancelled()
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(ran, ['backoff', 'poll'])
})

test.run()

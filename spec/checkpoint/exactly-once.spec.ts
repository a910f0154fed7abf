import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment, keyBy, map, process } from '../../lib/index.js'
import { Ledger, LedgerSink } from '../support/ledger-sink.js'
import { RunningCount } from '../support/running-count.js'
import { busyWait } from '../support/fault-injection.js'
import { sharedRecord } from '../support/shared-flags.js'

test('a failure mid-stream restores the last checkpoint and the exactly-once sink holds each record once', async () => {
  const ledger = new Ledger<string>()
  const fault = sharedRecord({ failed: false })
  const env = StreamEnvironment.create({
    parallelism: 2,
    logLevel: 'silent',
    checkpointing: { intervalMs: 5 },
    restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
  })
  env
    .fromSequence(1, 20_000, { uid: 'numbers' })
    .pipe(
      map(
        (x: number) => {
          if (x % 250 === 0) busyWait(1)
          if (x === 9_000 && !fault.failed) {
            fault.failed = true
            throw new Error('injected')
          }
          return x
        },
        { uid: 'slow' },
      ),
      keyBy((x: number) => x % 10),
      process(new RunningCount(), { uid: 'count' }),
    )
    .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
  const job = env.executeAsync()
  const result = await job.result
  assert.ok(fault.failed, 'the failure was injected')
  assert.is(result.metrics.restarts, 1)
  const expected: string[] = []
  for (let k = 0; k < 10; k++) for (let n = 1; n <= 2_000; n++) expected.push(`${k}:${n}`)
  assert.is(ledger.committed.length, expected.length)
  assert.equal([...ledger.committed].sort(), expected.sort())
  assert.ok(job.checkpoints().some((c) => c.status === 'completed'))
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { keyBy } from '../../lib/operators/key-by.js'
import { process as keyedProcess } from '../../lib/operators/process.js'
import { StreamOperator } from '../../lib/runtime/stream-operator.js'
import { checkCounts } from '../support/fault-checks.js'
import { FaultyRunningCount } from '../support/fault-operators.js'
import { Ledger, LedgerSink } from '../support/ledger-sink.js'
import { settlesWithin } from '../support/wait-for.js'

/** A pass-through whose close takes a while (flushing a client, say). */
class SlowClose extends StreamOperator<number, number> {
  processRecord(value: number, timestamp: number | undefined): void {
    this.output.collect(value, timestamp)
  }
  override async close(): Promise<void> {
    super.close()
    await new Promise((resolve) => setTimeout(resolve, 30))
  }
}

function run(channelCredits: number, slowClose: boolean) {
  const ledger = new Ledger<string>()
  const env = StreamEnvironment.create({
    parallelism: 1,
    channelCredits,
    logLevel: 'silent',
    checkpointing: { intervalMs: 1 },
  })
  const numbers = env.fromSequence(1, 300, { uid: 'numbers' })
  ;(slowClose ? numbers.transform('slow-close', () => new SlowClose(), { uid: 'slow-close' }) : numbers)
    .pipe(
      keyBy((x: number) => x % 3),
      keyedProcess(new FaultyRunningCount(undefined), { uid: 'count' }),
    )
    .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
  return { ledger, job: env.executeAsync() }
}

test('a bounded job with checkpoints every millisecond finishes, and its output is exact', async () => {
  const { ledger, job } = run(4, false)
  await settlesWithin(job.result, { timeoutMs: 5000, description: 'the job finished' })
  assert.equal(checkCounts(ledger.committed, 300, 3, 'exactly-once').problems, [])
})

// Regression (an engine bug the fault injection found, now fixed): after a subtask's input ended, the job master keeps sending it the barriers of every
// checkpoint (trigger() sends to sources ∪ ended; the periodic trigger is never stopped, not even after
// the final checkpoint), and it forwards each one (SubtaskCheckpointer.take → host.forward) on channels
// that already carried end-of-input. The downstream subtask has ended too and never reads them, so they
// never return their credit: after `channelCredits` of them the channel is blocked for good, and
// Subtask.checkFinished (`closed && blockedChannels === 0`) never reports the subtask finished. The job
// hangs with all its output committed. Any operator whose close() takes a few intervals triggers it.
// Fix: do not forward barriers once end-of-input was sent (downstream subtasks that ended get theirs
// from the master), and stop periodic checkpoints once the final checkpoint is requested — see the report.
for (const credits of [1, 4]) {
  test(`a bounded job finishes although an operator closes slowly while checkpoints keep coming (${credits} credit${credits > 1 ? 's' : ''})`, async () => {
    const { ledger, job } = run(credits, true)
    try {
      await settlesWithin(job.result, { timeoutMs: 3000, description: 'the job finished' })
    } finally {
      await job.cancel()
    }
    assert.equal(checkCounts(ledger.committed, 300, 3, 'exactly-once').problems, [])
  })
}

test.run()

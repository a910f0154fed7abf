import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment, StreamOperator } from '../../lib/index.js'
import type { Sink, SinkWriter } from '../../lib/runtime/sink.js'
import { sharedRecord } from '../support/shared-flags.js'
import { SharedGate } from '../support/shared-gate.js'
import { coordinatorOnly } from '../support/worker-pass/pass-context.js'
import { waitFor } from '../support/wait-for.js'

/**
 * A writer whose first snapshot stays pending until the test releases it; its counts and the release
 * are in memory every thread of the test shares (on workers the writer runs in one).
 */
function sink(writesWhileSnapshotting: boolean) {
  const counts = sharedRecord({ written: 0, writtenAtSnapshot: -1 })
  const gate = new SharedGate()
  const probe = {
    get written() {
      return counts.written
    },
    get writtenAtSnapshot() {
      return counts.writtenAtSnapshot
    },
    release: () => gate.open(),
  }
  const s: Sink<number> = {
    name: 'probe',
    guarantee: 'at-least-once',
    createWriter: (): SinkWriter<number> => ({
      writesWhileSnapshotting,
      write: () => void counts.written++,
      snapshotState: async () => {
        if (counts.writtenAtSnapshot === -1) {
          counts.writtenAtSnapshot = counts.written
          await gate.opened()
        }
        return []
      },
      close() {},
    }),
  }
  return { sink: s, probe }
}

for (const writesWhileSnapshotting of [true, false]) {
  test(`a sink writer's pending snapshot ${writesWhileSnapshotting ? 'lets records through (writesWhileSnapshotting)' : 'holds the input (default)'}`, async () => {
    const { sink: s, probe } = sink(writesWhileSnapshotting)
    const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 20 } })
    env.fromSequence(0, 1e9).sinkTo(s)
    const job = env.executeAsync('probe')
    // the coordinator's alone: a worker replaying the test up to its job would release the gate too
    await coordinatorOnly(async () => {
      try {
        await waitFor(() => probe.writtenAtSnapshot >= 0, { timeoutMs: 5_000 })
        await new Promise((resolve) => setTimeout(resolve, 100))
        const during = probe.written - probe.writtenAtSnapshot
        if (writesWhileSnapshotting)
          assert.ok(during > 1_000, `${during} records written while the snapshot was pending`)
        else assert.is(during, 0, 'nothing written while the snapshot was pending')
        probe.release()
        const before = probe.written
        await waitFor(() => probe.written > before + 1_000, {
          timeoutMs: 5_000,
          description: 'records flow after the snapshot settled',
        })
      } finally {
        probe.release()
        await job.cancel()
      }
    }, undefined)
  })
}

test('an operator overriding the deprecated snapshotHoldsInput still decides whether its input is held', () => {
  class Holding extends StreamOperator<number, number> {
    processRecord(): void {}
  }
  class Writing extends Holding {
    override snapshotHoldsInput(): boolean {
      return false
    }
  }
  assert.is(new Holding().writesWhileSnapshotting(), false, 'holds the input by default')
  assert.is(new Writing().writesWhileSnapshotting(), true, 'the inverse of the old name')
})

test.run()

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { NiFiSink } from '../../../lib/connectors/nifi/index.js'
import { checkCounts } from '../../support/fault-checks.js'
import { describePlan, FaultLog, planFromSeed, seedsFromEnv } from '../../support/fault-injection.js'
import { runSchedule } from '../../support/fault-jobs.js'
import { FaultySink } from '../../support/faulty-sink.js'
import { NiFiTestCluster } from '../../support/nifi-s2s-server.js'

/**
 * The NiFi sink's exactly-once under seeded in-process fault schedules: the keyed-count job of the fault
 * harness writes each output line as a FlowFile to its own input port of the loopback NiFi (2 nodes),
 * under user-function throws, failing snapshots, a failing sink pre-commit, failing checkpoint storage
 * and a failure between pre-commit and commit (the completion notice throws before the transaction is
 * confirmed: the restore must confirm it). The FlowFiles NiFi received equal the expected lines exactly.
 * A transaction pre-committed for a checkpoint that never completed (the job failed first) is in no
 * restored state: it stays open until NiFi's TTL drops it (its FlowFiles are replayed from the earlier
 * checkpoint), so open transactions are not asserted here.
 *
 * Replay one schedule: SEED=3 node --import tsx node_modules/uvu/bin.js spec/connectors/nifi fault-schedules
 */
const Schedules = suite('nifi sink: seeded fault schedules')
const SPEC = 'spec/connectors/nifi/fault-schedules.spec.ts'
const SEEDS = seedsFromEnv(100, 1, 10)
let nifi: NiFiTestCluster
const fired = { schedules: 0, restarted: 0, commitFaults: 0 }

Schedules.before(async () => {
  nifi = await NiFiTestCluster.start({ nodes: 2, inputPorts: SEEDS.map((seed) => `in-${seed}`) })
})
Schedules.after(async () => {
  await nifi.stop()
})

for (const seed of SEEDS) {
  const plan = planFromSeed(seed, {
    kinds: ['throw-in-function', 'snapshot-fails', 'sink-snapshot-rejects', 'storage-write-fails', 'commit-fails'],
    modes: ['exactly-once'],
    records: [300, 900],
    busyTotalMs: [10, 25],
  })
  Schedules(`seed ${seed}: the FlowFiles NiFi received equal the keyed count exactly`, async () => {
    const port = `in-${seed}`
    const log = new FaultLog(plan)
    const sink = new FaultySink(
      new NiFiSink<string>({
        urls: nifi.url,
        portName: port,
        batchCount: [20, 100, 500][seed % 3],
        retry: { initialDelayMs: 5, maxDelayMs: 50, maxRetries: 20 },
        flowFile: (line) => ({ attributes: { line }, content: Buffer.from(line) }),
      }),
      log,
    )
    const run = await runSchedule(plan, log, { sink, timeoutMs: 30_000 })
    fired.schedules++
    if (run.restarts > 0) fired.restarted++
    // fired only by a writer that chose its victim (log.commitVictim is that writer's thread's)
    if (plan.faults.some((f, i) => f.kind === 'commit-fails' && log.fired.has(i))) fired.commitFaults++
    const lines = nifi.received(port).map((f) => f.content.toString())
    const check = checkCounts(lines, plan.records, plan.keys, 'exactly-once')
    assert.equal(check.problems, [], describePlan(plan, SPEC))
    assert.is(lines.length, plan.records, describePlan(plan, SPEC))
  })
}

Schedules('the schedules did fail over, and some failed between pre-commit and commit', () => {
  if (SEEDS.length < 10) return
  assert.is(fired.schedules, SEEDS.length)
  assert.ok(fired.restarted >= SEEDS.length / 4, `restarted: ${fired.restarted}`)
  // a short run (the worker executor's) must still have failed one commit
  assert.ok(fired.commitFaults >= (SEEDS.length < 20 ? 1 : 5), `commit faults fired: ${fired.commitFaults}`)
})

Schedules.run()

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { describePlan, FaultLog, inProcessKinds, planFromSeed, seedsFromEnv } from '../support/fault-injection.js'
import { checkCounts } from '../support/fault-checks.js'
import { runSchedule } from '../support/fault-jobs.js'

/**
 * Exactly-once by fault injection, in process: each seed draws a job shape (parallelism 1–3, sink
 * chained or behind a rebalance, checkpoint interval, exactly-once or at-least-once) and one or two
 * faults — a user function throwing at record N of subtask S, an operator snapshot throwing or
 * rejecting at checkpoint K, the sink's pre-commit rejecting, the checkpoint storage failing a write,
 * the sink's commit failing after its pre-commit; on the worker executor also a worker thread crashing
 * — and the committed output must be exactly the keyed count (exactly-once) or contain all of it
 * (at-least-once).
 *
 * Replay one schedule: SEED=123 npx tsx spec/checkpoint/fault-injection.spec.ts
 * More schedules:      SEEDS=1000 SEED_BASE=5000 npx tsx spec/checkpoint/fault-injection.spec.ts
 * Defaults:            faults anywhere up to the end of input, storage faults sometimes tolerated,
 *                      1–4 credits per channel; FAULT_WINDOW=0.5 and FAULT_TOLERANCE=0 narrow them.
 */
const FaultInjection = suite('checkpoint fault injection')
const SPEC = 'spec/checkpoint/fault-injection.spec.ts'

const stats = { schedules: 0, fired: 0, planned: 0, restarts: 0, startedAt: 0, byKind: new Map<string, number>() }

FaultInjection.before(() => {
  stats.startedAt = performance.now()
})

FaultInjection.after(() => {
  const seconds = ((performance.now() - stats.startedAt) / 1000).toFixed(1)
  const kinds = [...stats.byKind].map(([k, n]) => `${k} ${n}`).join(', ')
  console.log(
    `  fault injection: ${stats.schedules} schedules in ${seconds} s; ${stats.fired}/${stats.planned} planned faults fired (${kinds}); ${stats.restarts} restarts`,
  )
})

// on the worker executor (the worker-executor test pass) each schedule starts worker threads (about 5 s a
// schedule on the shared 2-core machine): 100 schedules gate there, as issue 16's proof asks
for (const seed of seedsFromEnv(process.env.SLUICE_EXECUTOR === 'workers' ? 100 : 120, 1)) {
  const plan = planFromSeed(seed, { kinds: inProcessKinds() })
  const faults = plan.faults.map((f) => f.kind).join('+')
  FaultInjection(
    `seed ${seed}: ${plan.mode} ×${plan.parallelism}${plan.sinkParallelism !== plan.parallelism ? '→1' : ''} every ${plan.intervalMs} ms, ${plan.records} records, ${faults}: the committed output is ${plan.mode === 'exactly-once' ? 'exact' : 'complete'}`,
    async () => {
      const log = new FaultLog(plan)
      const where = (): string => `\n${describePlan(plan, SPEC)}\n  fired: ${log.events.join(', ') || 'none'}`
      // An unhandled rejection inside the engine would end the whole test process: report it here instead.
      const unhandled: unknown[] = []
      const onUnhandled = (error: unknown): void => void unhandled.push(error)
      process.on('unhandledRejection', onUnhandled)
      let run
      try {
        run = await runSchedule(plan, log)
      } catch (error) {
        assert.unreachable(`the job failed: ${(error as Error)?.stack ?? error}${where()}`)
        return
      } finally {
        process.off('unhandledRejection', onUnhandled)
      }
      assert.equal(unhandled.map(String), [], `unhandled rejections during the job${where()}`)
      const { ledger, restarts } = run
      stats.schedules++
      stats.planned += plan.faults.length
      stats.fired += log.fired.size
      stats.restarts += restarts
      for (const i of log.fired)
        stats.byKind.set(plan.faults[i]!.kind, (stats.byKind.get(plan.faults[i]!.kind) ?? 0) + 1)

      const check = checkCounts(ledger.committed, plan.records, plan.keys, plan.mode)
      assert.equal(check.problems, [], `committed output is wrong: ${check.problems.join('; ')}${where()}`)
      if (plan.mode === 'exactly-once')
        assert.is(ledger.committed.length, plan.records, `committed ${ledger.committed.length} records${where()}`)
      if (log.commitVictim !== undefined && log.events.some((e) => e.startsWith('commit-fails'))) {
        assert.ok(
          ledger.committedIds.has(log.commitVictim),
          `the transaction whose commit failed was never committed${where()}`,
        )
      }
      const failing = plan.faults.filter((f, i) => log.fired.has(i) && f.kind !== 'storage-write-fails').length
      if (failing > 0) assert.ok(restarts >= 1, `${failing} fault(s) fired but the job never restarted${where()}`)
    },
  )
}

FaultInjection.run()

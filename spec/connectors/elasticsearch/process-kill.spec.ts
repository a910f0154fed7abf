import { writeFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { type ElasticsearchServer, startElasticsearchServer } from '../../support/elasticsearch-server.js'
import { checkCounts } from '../../support/fault-checks.js'
import { describePlan, killPlanFromSeed, seedsFromEnv } from '../../support/fault-injection.js'
import { runUntilFinished } from '../../support/fault-process.js'
import { tempDir } from '../../support/temp-dir.js'

/**
 * Exactly-once in effect across SIGKILL: the keyed count runs in a child process writing to the
 * loopback node of this process with ids `x`; the process is killed at seeded moments (while loading
 * and restoring, mid-run, right after a checkpoint) and started again on its checkpoint directory until
 * it finishes. The documents then equal the exact keyed count: what the killed runs wrote after their
 * last checkpoint was written again, with the same ids and the same content.
 *
 * Replay one schedule: SEED=3 node --import tsx node_modules/uvu/bin.js spec/connectors/elasticsearch process-kill
 */
const ProcessKill = suite('elasticsearch sink: process kill')
const SPEC = 'spec/connectors/elasticsearch/process-kill.spec.ts'
const SCRIPT = 'spec/support/child-jobs/elasticsearch-count-job.ts'
let es: ElasticsearchServer

ProcessKill.before(async () => {
  es = await startElasticsearchServer()
})
ProcessKill.after(async () => {
  await es.stop()
})

for (const seed of seedsFromEnv(1, 1)) {
  const plan = killPlanFromSeed(seed, { kills: [2, 2], records: [2_000, 4_000], busyTotalMs: [80, 150] })
  ProcessKill(
    `seed ${seed}: killed and restarted on its checkpoints, the documents equal the keyed count`,
    async () => {
      const dir = tempDir('sluice-es-kill-')
      const index = `kill-${seed}`
      writeFileSync(dir.file('es-url'), es.url)
      writeFileSync(dir.file('es-index'), index)
      try {
        let run
        try {
          run = await runUntilFinished(SCRIPT, plan, dir.path)
        } catch (error) {
          assert.unreachable(`${(error as Error).message}\n${describePlan(plan, SPEC)}`)
          return
        }
        const where = `\n${describePlan(plan, SPEC)}\n  ${run.log.join('\n  ')}`
        assert.ok(run.kills >= 1, `the process was never killed${where}`)
        const lines = [...es.documents(index).values()].map((doc) => String(doc._source.line))
        const check = checkCounts(lines, plan.records, plan.keys, 'exactly-once')
        assert.equal(check.problems, [], `documents are wrong: ${check.problems.join('; ')}${where}`)
        assert.is(lines.length, plan.records, where)
      } finally {
        dir.remove()
      }
    },
  )
}

ProcessKill.run()

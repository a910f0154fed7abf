import { writeFileSync } from 'node:fs'
import type cassandra from 'cassandra-driver'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { type CassandraServer, startCassandra } from '../../support/cassandra-server.js'
import { checkCounts } from '../../support/fault-checks.js'
import { describePlan, killPlanFromSeed, seedsFromEnv } from '../../support/fault-injection.js'
import { runUntilFinished } from '../../support/fault-process.js'
import { tempDir } from '../../support/temp-dir.js'
import { createKeyspace, keyspaceName, testClient } from './support.js'

/**
 * The write-ahead log across SIGKILL: the keyed count runs in a child process
 * (spec/support/child-jobs/cassandra-count-job.ts) writing through the exactly-once sink to a real
 * Cassandra node of this process; the process is killed at seeded moments — while loading and
 * restoring, mid-run (records held in the log between a checkpoint's snapshot and its completion), and
 * right after a checkpoint completed, while its records and committer row are being written — and
 * started again on its checkpoint directory until it finishes.
 *
 * Gating: upserts (`INSERT … (run, line)`): the rows equal the keyed count's output exactly — no
 * checkpoint skipped, nothing extra.
 *
 * Known limit (run by hand with SLUICE_KNOWN_DEFECTS=1; not in npm test): counter
 * increments. A kill while a completed checkpoint's records are being written (the kill right after a
 * checkpoint, with 10–20 ms checkpoint intervals nearly every kill) leaves some of them written and the
 * committer row not: the restore writes that checkpoint again and those counters count 2 (seeds 1 and 2,
 * 32 and 96 repeats). The documented limit of the write-ahead log (as Flink's); a counter increment and
 * the committer row cannot be written atomically (a counter batch holds only counter updates).
 *
 * Replay one schedule: SEED=3 node --import tsx node_modules/uvu/bin.js spec/connectors/cassandra process-kill
 */
const ProcessKill = suite('cassandra write-ahead log: process kill')
const SPEC = 'spec/connectors/cassandra/process-kill.spec.ts'
const SCRIPT = 'spec/support/child-jobs/cassandra-count-job.ts'
const KNOWN_DEFECTS = process.env.SLUICE_KNOWN_DEFECTS === '1'
let server: CassandraServer
let client: cassandra.Client
const keyspace = keyspaceName('kill')

ProcessKill.before(async () => {
  try {
    server = await startCassandra()
    client = await testClient(server)
    await createKeyspace(client, keyspace)
    await client.execute(`CREATE TABLE ${keyspace}.seen (run text, line text, seen counter, PRIMARY KEY ((run), line))`)
    await client.execute(`CREATE TABLE ${keyspace}.lines (run text, line text, PRIMARY KEY ((run), line))`)
  } catch (error) {
    console.error('cassandra ProcessKill: setup failed', error)
    throw error
  }
})
ProcessKill.after(async () => {
  await client?.shutdown()
  await server?.stop()
})

/** Every line of `run`, repeated as often as it was counted (counters) or once (upserts). */
async function written(run: string, counter: boolean): Promise<string[]> {
  const query = counter
    ? `SELECT line, seen FROM ${keyspace}.seen WHERE run = ?`
    : `SELECT line FROM ${keyspace}.lines WHERE run = ?`
  const result = await client.execute(query, [run], { prepare: true, fetchSize: 100_000 })
  return result.rows.flatMap((row) =>
    Array.from({ length: counter ? Number(row.get('seen')) : 1 }, () => row.get('line') as string),
  )
}

const schedules = [
  ...seedsFromEnv(2, 1).map((seed) => ({ seed, counter: false })),
  ...(KNOWN_DEFECTS ? seedsFromEnv(3, 1).map((seed) => ({ seed, counter: true })) : []),
]

for (const { seed, counter } of schedules) {
  const plan = killPlanFromSeed(seed, { kills: [2, 3], records: [1_500, 3_000], busyTotalMs: [80, 150] })
  const what = counter ? 'counter increments: the counters' : 'upserts: the rows'
  ProcessKill(`seed ${seed}, ${what} equal the keyed count after kills and restores`, async () => {
    const dir = tempDir('sluice-cassandra-kill-')
    const run = `kill-${seed}-${counter ? 'counter' : 'upsert'}`
    writeFileSync(
      dir.file('cassandra'),
      JSON.stringify({ contactPoint: server.contactPoint, dataCenter: server.dataCenter, keyspace, run, counter }),
    )
    try {
      let outcome
      try {
        outcome = await runUntilFinished(SCRIPT, plan, dir.path)
      } catch (error) {
        assert.unreachable(`${(error as Error).message}\n${describePlan(plan, SPEC)}`)
        return
      }
      const where = `\n${describePlan(plan, SPEC)}\n  ${outcome.log.join('\n  ')}`
      assert.ok(outcome.kills >= 1, `the process was never killed${where}`)
      const lines = await written(run, counter)
      const check = checkCounts(lines, plan.records, plan.keys, 'exactly-once')
      assert.equal(check.problems, [], `rows are wrong: ${check.problems.join('; ')}${where}`)
      assert.is(lines.length, plan.records, where)
    } finally {
      dir.remove()
    }
  })
}

ProcessKill.run()

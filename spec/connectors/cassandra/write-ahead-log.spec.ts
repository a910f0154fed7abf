import type cassandra from 'cassandra-driver'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { CassandraSink, type CassandraSinkOptions } from '../../../lib/connectors/cassandra/index.js'
import { type CassandraServer, startCassandra } from '../../support/cassandra-server.js'
import { coordinatorOnly } from '../../support/worker-pass/pass-context.js'
import { checkCounts } from '../../support/fault-checks.js'
import { describePlan, FaultLog, planFromSeed, seedsFromEnv } from '../../support/fault-injection.js'
import { runSchedule } from '../../support/fault-jobs.js'
import { createKeyspace, keyspaceName, testClient, writerContext } from './support.js'

/**
 * The exactly-once sink (write-ahead log) against a real Apache Cassandra 4.1 node. The statement
 * increments a counter per record (`seen = seen + 1`), which is not idempotent: a checkpoint written
 * twice shows as 2, one never written as a missing row. Restore paths first (a lost completion notice,
 * a checkpoint taken before the one before it was written, committer rows cleaned up), then seeded
 * fault schedules of the keyed-count job (throws, snapshot failures, storage failures), each in its
 * own partition (`run`), whose rows must equal the expected output exactly.
 *
 * Replay one schedule: SEED=3 node --import tsx node_modules/uvu/bin.js spec/connectors/cassandra write-ahead-log
 */
const Wal = suite('cassandra write-ahead log')
const SPEC = 'spec/connectors/cassandra/write-ahead-log.spec.ts'
let server: CassandraServer
let client: cassandra.Client
const ks = keyspaceName('wal')

Wal.before(async () => {
  // uvu does not print an error of a before hook: say it here.
  try {
    server = await startCassandra()
    // the coordinator's keyspace and table: a worker replaying a test writes to them, and creates nothing
    await coordinatorOnly(async () => {
      client = await testClient(server)
      await createKeyspace(client, ks)
      await client.execute(`CREATE TABLE ${ks}.seen (run text, line text, seen counter, PRIMARY KEY ((run), line))`)
    }, undefined)
  } catch (error) {
    console.error('cassandra Wal: setup failed', error)
    throw error
  }
})
Wal.after(async () => {
  await client?.shutdown()
  await server?.stop()
})

function walSink(run: string, options: Partial<CassandraSinkOptions<string>> = {}): CassandraSink<string> {
  return new CassandraSink<string>({
    contactPoints: [server.contactPoint],
    localDataCenter: server.dataCenter,
    statement: (line) => ({
      query: `UPDATE ${ks}.seen SET seen = seen + 1 WHERE run = ? AND line = ?`,
      params: [run, line],
    }),
    guarantee: 'exactly-once',
    sinkId: run,
    committer: { keyspace: ks },
    ...options,
  })
}

/** Every line of `run`, repeated as often as it was written. */
async function written(run: string): Promise<string[]> {
  const result = await client.execute(`SELECT line, seen FROM ${ks}.seen WHERE run = ?`, [run], {
    prepare: true,
    fetchSize: 100_000,
  })
  return result.rows.flatMap((row) => Array.from({ length: Number(row.get('seen')) }, () => row.get('line') as string))
}

async function committerRows(sinkId: string): Promise<number> {
  const result = await client.execute(`SELECT writer_id FROM ${ks}.sluice_checkpoints WHERE sink_id = ?`, [sinkId], {
    prepare: true,
  })
  return result.rowLength
}

Wal('records are written only when their checkpoint completes, each once', async () => {
  const writer = walSink('complete').createWriter(writerContext())
  await writer.ready()
  writer.write('a', undefined)
  writer.write('b', undefined)
  await writer.snapshotState(1)
  writer.write('c', undefined)
  assert.equal(await written('complete'), [], 'nothing before the checkpoint completes')
  assert.is(writer.walRecords, 3)
  await writer.notifyCheckpointComplete(1)
  assert.equal((await written('complete')).sort(), ['a', 'b'])
  await writer.snapshotState(2)
  await writer.notifyCheckpointComplete(2)
  assert.equal((await written('complete')).sort(), ['a', 'b', 'c'])
  assert.is(writer.walRecords, 0)
  await writer.close()
})

Wal(
  'a completed checkpoint whose notice was lost is written by the restored writer, once, even when restored twice',
  async () => {
    const crashed = walSink('lost-notice').createWriter(writerContext())
    await crashed.ready()
    crashed.write('a', undefined)
    crashed.write('b', undefined)
    const state = await crashed.snapshotState(1)
    await crashed.close()
    const first = walSink('lost-notice').createWriter(writerContext(), state)
    await first.ready()
    assert.equal((await written('lost-notice')).sort(), ['a', 'b'])
    assert.is(first.metricGroup.value('walCheckpointsRestored'), 1)
    await first.close()
    // The first restored run died before a checkpoint of its own: the same state is restored again.
    const second = walSink('lost-notice').createWriter(writerContext(), state)
    await second.ready()
    assert.is(second.metricGroup.value('walCheckpointsSkipped'), 1)
    assert.equal((await written('lost-notice')).sort(), ['a', 'b'], 'not repeated')
    await second.close()
  },
)

Wal('a state holding a written and an unwritten checkpoint: the restore writes only the unwritten one', async () => {
  const crashed = walSink('partly').createWriter(writerContext())
  await crashed.ready()
  crashed.write('one', undefined)
  await crashed.snapshotState(1)
  crashed.write('two', undefined)
  const state = await crashed.snapshotState(2)
  await crashed.notifyCheckpointComplete(1)
  await crashed.close()
  assert.equal(await written('partly'), ['one'])
  const restored = walSink('partly').createWriter(writerContext(), state)
  await restored.ready()
  assert.equal((await written('partly')).sort(), ['one', 'two'])
  assert.is(restored.metricGroup.value('walCheckpointsSkipped'), 1)
  assert.is(restored.metricGroup.value('walCheckpointsRestored'), 1)
  // Its own checkpoint completes: the committer row of the writer it took over is removed.
  assert.is(await committerRows('partly'), 1)
  restored.write('three', undefined)
  await restored.snapshotState(3)
  await restored.notifyCheckpointComplete(3)
  assert.is(restored.metricGroup.value('committerRowsRemoved'), 1)
  assert.is(await committerRows('partly'), 1, "only the restored writer's own row is left")
  assert.equal((await written('partly')).sort(), ['one', 'three', 'two'])
  await restored.close()
})

Wal(
  "a checkpoint's state carries an earlier checkpoint that did not complete: restored from it, both are written once",
  async () => {
    const crashed = walSink('declined').createWriter(writerContext())
    await crashed.ready()
    crashed.write('one', undefined)
    await crashed.snapshotState(1) // checkpoint 1 is declined (its storage write failed, say): no completion
    crashed.write('two', undefined)
    const state = await crashed.snapshotState(2)
    assert.equal(pendingIds(state), [1, 2], "checkpoint 2's state holds checkpoint 1's records too")
    // checkpoint 2 completes, and the job fails before the writer wrote it: a new writer restores it
    await crashed.close()
    const restored = walSink('declined').createWriter(writerContext(), state)
    await restored.ready()
    assert.equal((await written('declined')).sort(), ['one', 'two'], "checkpoint 1's records are not lost")
    assert.is(restored.metricGroup.value('walCheckpointsRestored'), 2)
    await restored.close()
  },
)

Wal('a snapshot taken while a completion notice writes names that checkpoint; the restore then skips it', async () => {
  const crashed = walSink('notice-race').createWriter(writerContext())
  await crashed.ready()
  crashed.write('one', undefined)
  await crashed.snapshotState(1)
  crashed.write('two', undefined)
  // the runtime runs notices in the background: checkpoint 2's barrier comes while 1 is being written
  const notice = crashed.notifyCheckpointComplete(1)
  const state = await crashed.snapshotState(2)
  assert.equal(pendingIds(state), [1, 2], "checkpoint 2's state holds checkpoint 1, whose write is in flight")
  await notice
  await crashed.close()
  const restored = walSink('notice-race').createWriter(writerContext(), state)
  await restored.ready()
  assert.is(restored.metricGroup.value('walCheckpointsSkipped'), 1, 'checkpoint 1 was written by the notice')
  assert.equal((await written('notice-race')).sort(), ['one', 'two'], 'each once')
  await restored.close()
})

/** The checkpoint ids a write-ahead-log state holds. */
function pendingIds(state: unknown[]): number[] {
  return (state as Array<{ pending: Array<{ id: number }> }>).flatMap((s) => s.pending.map((c) => c.id))
}

for (const seed of seedsFromEnv(100, 1, 10)) {
  const plan = planFromSeed(seed, {
    kinds: ['throw-in-function', 'snapshot-fails', 'storage-write-fails'],
    modes: ['exactly-once'],
    records: [150, 400],
    busyTotalMs: [10, 30],
  })
  Wal(`seed ${seed}: the rows equal the keyed count exactly`, async () => {
    const run = `seed-${seed}`
    const log = new FaultLog(plan)
    await runSchedule(plan, log, { sink: walSink(run, { maxConcurrentRequests: 32 }), timeoutMs: 60_000 })
    const check = checkCounts(await written(run), plan.records, plan.keys, 'exactly-once')
    assert.equal(check.problems, [], describePlan(plan, SPEC))
  })
}

Wal.run()

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  KafkaTransactionalSink,
  type KafkaTransactionalSinkOptions,
  type KafkaTransactionEvent,
  type KafkaTransactionState,
} from '../../../lib/connectors/kafka/index.js'
import { endTransaction } from '../../../lib/connectors/kafka/kafka-internals.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { freePort } from '../../support/brokers.js'
import { checkCounts } from '../../support/fault-checks.js'
import { describePlan, FaultLog, planFromSeed, seedsFromEnv } from '../../support/fault-injection.js'
import { runSchedule } from '../../support/fault-jobs.js'
import { type KafkaServer, startKafka } from '../../support/kafka-server.js'
import { waitFor } from '../../support/wait-for.js'
import { client, describeLog, readLog, settled } from './support.js'

/**
 * The exactly-once sink against Apache Kafka, where the mock could not show it: seeded fault schedules
 * (functions throwing, snapshots failing, checkpoint storage failing — tolerated or failing the job
 * over, as the seed draws) whose output a read_committed consumer sees exactly once; the old run's open
 * transaction fenced and aborted by a restored writer (epoch bumped, the zombie cannot commit); a
 * pre-committed transaction the broker aborted (on its timeout, or fenced) reported as
 * ERR_TRANSACTION_LOST; one committed before whose id moved on taken as already committed; and one without
 * records settled without asking the broker. The broker caps
 * transaction timeouts at 10 s (`transaction.max.timeout.ms`) and aborts timed-out ones within 1 s.
 *
 * Replay one schedule: SEED=3 node --import tsx node_modules/uvu/bin.js spec/connectors/kafka 'kafka-exactly-once'
 */
const ExactlyOnce = suite('kafka exactly-once')
const SPEC = 'spec/connectors/kafka/kafka-exactly-once.spec.ts'
const TIMEOUT_MS = 10_000

/** A transactional sink of `topic` on the spec's broker, with `prefix` as its id prefix and the spec's timeout. */
function transactionalSink(
  topic: string,
  prefix: string,
  options: Partial<KafkaTransactionalSinkOptions<string>> = {},
): KafkaTransactionalSink<string> {
  return new KafkaTransactionalSink<string>({
    brokers: kafka.brokers,
    topic,
    transactionalIdPrefix: prefix,
    transactionTimeoutMs: TIMEOUT_MS,
    ...options,
  })
}
let kafka: KafkaServer

ExactlyOnce.before(async () => {
  kafka = await startKafka({ properties: { 'transaction.max.timeout.ms': String(TIMEOUT_MS) } })
})
ExactlyOnce.after(async () => {
  await kafka?.stop() // undefined when the start in before() failed: uvu reports that failure
})

const context = (subtask = 0, parallelism = 1) => ({ subtask, parallelism, processingTime: systemProcessingTime })

/**
 * Seeds 1–15 gate (about 4 s each on 2 cores). The worker pass runs seeds 1–8 (`SEEDS=15` for all):
 * there a schedule takes 7–20 s, as each restart starts fresh worker threads that load the spec and
 * kafkajs again. Until 2026-12-04 seeds 4–15 ran only in npm test's "known defects" step: some saw one transaction's records twice after a restore. Two causes, both
 * fixed: kafkajs's read_committed filter read records of aborted transactions as committed (the
 * source, the restore's read-back and this spec's readLog all used it; see aborted-records.ts), and a
 * closing writer still opened the transactions cut before the close, fencing the restarted writer's
 * transaction of the same id (see "a writer closed before its transactions opened" below).
 */
for (const seed of seedsFromEnv(process.env.SLUICE_EXECUTOR === 'workers' ? 8 : 15, 1)) {
  const plan = planFromSeed(seed, {
    kinds: ['throw-in-function', 'snapshot-fails', 'storage-write-fails'],
    modes: ['exactly-once'],
    records: [1_500, 3_000],
    tolerate: true,
  })
  ExactlyOnce(`seed ${seed}: a read_committed consumer sees the keyed count exactly once`, async () => {
    const topic = `eo-seed-${seed}`
    await kafka.createTopic(topic, 3)
    const log = new FaultLog(plan)
    const sink = transactionalSink(topic, topic, { maxRestartMs: 1_000, batchSize: 50 })
    await runSchedule(plan, log, { sink, timeoutMs: 90_000 })
    const committed = (await readLog(kafka.brokers, topic, 'read_committed')).map((r) => r.value ?? '')
    const check = checkCounts(committed, plan.records, plan.keys, 'exactly-once')
    const batches = check.problems.length === 0 ? '' : `\n${await describeLog(kafka.brokers, topic)}`
    assert.equal(check.problems, [], `${describePlan(plan, SPEC)}${batches}`)
  })
}

ExactlyOnce(
  'a writer closed before its transactions opened never opens them: the restarted writer that took over their ids is not fenced',
  async () => {
    await kafka.createTopic('eo-closed', 1)
    const sink = transactionalSink('eo-closed', 'closed')
    // The old deployment: restored with the ids of 8 subtasks to abort first, so its transactions open
    // late. A barrier cuts closed-0-1 (its pre-commit waits for it to open), then a restart closes it.
    const lingering = {
      v: 1,
      transactionalId: 'closed-7-1',
      subtask: 7,
      parallelism: 8,
      n: 1,
      checkpointId: 0,
      records: 0,
    }
    const old = sink.createWriter(context(), [{ open: lingering }])
    old.write('old', undefined)
    const cut = Promise.resolve(old.snapshotState!(1)).then(
      () => 'pre-committed',
      (error: { code?: string }) => error.code,
    )
    await old.close()
    // The new deployment starts afresh and uses closed-0-1 again, while the old writer is still aborting.
    const restarted = sink.createWriter(context())
    await restarted.ready?.()
    restarted.write('new', undefined)
    await restarted.snapshotState!(1)
    assert.is(await cut, 'ERR_SEND', 'the closed writer never opened closed-0-1, so it could not pre-commit it')
    await restarted.notifyCheckpointComplete!(1)
    await restarted.close()
    assert.equal(
      (await readLog(kafka.brokers, 'eo-closed', 'read_committed')).map((r) => r.value),
      ['new'],
    )
  },
)

ExactlyOnce(
  "a checkpoint's state carries the transaction of an earlier checkpoint that did not complete: restored from it, both are committed once",
  async () => {
    await kafka.createTopic('eo-declined', 1)
    const sink = transactionalSink('eo-declined', 'declined')
    const crashed = sink.createWriter(context())
    crashed.write('one', undefined)
    await crashed.snapshotState!(1) // checkpoint 1 is declined (its storage write failed, say): no completion
    crashed.write('two', undefined)
    const state = await crashed.snapshotState!(2)
    assert.equal(
      pendingIds(state),
      ['declined-0-1', 'declined-0-2'],
      "checkpoint 2's state names checkpoint 1's transaction too",
    )
    // checkpoint 2 completes, and the job fails before the writer committed: a new writer restores it
    await crashed.close()
    const restored = sink.createWriter(context(), state)
    await restored.ready?.()
    await restored.close()
    assert.equal(
      (await readLog(kafka.brokers, 'eo-declined', 'read_committed')).map((r) => r.value),
      ['one', 'two'],
      "checkpoint 1's records are not lost",
    )
  },
)

/** The transactional ids a writer state names as pre-committed. */
function pendingIds(state: unknown[]): string[] {
  return (state as Array<{ pending?: { transaction: KafkaTransactionState } }>).flatMap((entry) =>
    entry.pending === undefined ? [] : [entry.pending.transaction.transactionalId],
  )
}

/** A writer restored from `state` finds its pre-committed transaction lost: ERR_TRANSACTION_LOST; both writers closed. */
async function assertRestoreLoses(
  sink: KafkaTransactionalSink<string>,
  state: unknown[],
  crashed: { close?(): unknown },
): Promise<void> {
  const restored = sink.createWriter(context(), state)
  let lost: { code?: string } | undefined
  try {
    await restored.ready?.()
  } catch (error) {
    lost = error as { code?: string }
  }
  assert.is(lost?.code, 'ERR_TRANSACTION_LOST')
  await Promise.resolve(restored.close?.()).catch(() => undefined)
  await Promise.resolve(crashed.close?.()).catch(() => undefined)
}

ExactlyOnce(
  'fencing: a restored writer aborts the open transaction of the old run by bumping its epoch; the zombie cannot commit it',
  async () => {
    await kafka.createTopic('eo-fence', 1)
    const events: KafkaTransactionEvent[] = []
    const sink = transactionalSink('eo-fence', 'fence', { transactionListener: (e) => events.push(e) })
    // The old run: checkpoint 1 completes (a, b committed), then c and d go into fence-0-2, which is open
    // when the run "dies" — its writer lives on as a zombie.
    const zombie = sink.createWriter(context())
    zombie.write('a', undefined)
    zombie.write('b', undefined)
    const state = await zombie.snapshotState!(1)
    await zombie.notifyCheckpointComplete!(1)
    zombie.write('c', undefined)
    zombie.write('d', undefined)
    await waitFor(() => events.some((e) => e.type === 'committed'), {
      timeoutMs: 10_000,
      description: 'checkpoint 1 committed',
    })
    // The new run restores checkpoint 1: before it opens a transaction, it initialises fence-0-2.
    const restored = sink.createWriter(context(), state)
    await restored.ready?.()
    const fenced = events.find((e) => e.type === 'lingering-aborted' && e.transactionalId === 'fence-0-2')
    assert.ok(fenced, `fence-0-2 was initialised by the restored writer: ${JSON.stringify(events)}`)
    restored.write('e', undefined)
    await restored.snapshotState!(2)
    await restored.notifyCheckpointComplete!(2)
    // The zombie's pre-commit and commit are refused: its epoch is older than the coordinator's.
    let zombieError: unknown
    try {
      await zombie.snapshotState!(2)
      await zombie.notifyCheckpointComplete!(2)
    } catch (error) {
      zombieError = error
    }
    assert.ok(zombieError !== undefined, 'the zombie could not commit')
    await Promise.resolve(zombie.close?.()).catch(() => undefined)
    await restored.close?.()
    await settled(kafka.brokers, 'eo-fence')
    const committed = (await readLog(kafka.brokers, 'eo-fence', 'read_committed')).map((r) => r.value)
    assert.equal(committed, ['a', 'b', 'e'], 'c and d of the fenced transaction are never seen')
    const first = events.find((e) => e.type === 'committed' && e.transactionalId === 'fence-0-1')!
    const newer = events.filter((e) => e.transactionalId === 'fence-0-2' && e.producerEpoch !== undefined)
    assert.ok(
      newer.every((e) => e.producerId !== first.producerId) && newer.length > 0,
      'fence-0-2 has its own producer id',
    )
  },
)

ExactlyOnce(
  'a pre-committed transaction the broker aborted on its timeout fails the restore with ERR_TRANSACTION_LOST',
  async () => {
    await kafka.createTopic('eo-lost', 1)
    const sink = transactionalSink('eo-lost', 'lost', {
      transactionTimeoutMs: 1_500,
      checkpointIntervalMs: 100,
      maxRestartMs: 100,
    })
    const crashed = sink.createWriter(context())
    crashed.write('x', undefined)
    const state = await crashed.snapshotState!(1)
    // The checkpoint completed but the process died before committing: the broker aborts the transaction
    // once it is older than its timeout (the log's last stable offset then reaches its end).
    await settled(kafka.brokers, 'eo-lost', 0, 3 * TIMEOUT_MS)
    await assertRestoreLoses(sink, state, crashed)
    assert.equal(await readLog(kafka.brokers, 'eo-lost', 'read_committed'), [], 'the aborted record is never seen')
  },
)

ExactlyOnce(
  'a restored pre-committed transaction without records is settled without the broker, which would refuse its commit (INVALID_TXN_STATE)',
  async () => {
    await kafka.createTopic('eo-empty', 1)
    const sink = transactionalSink('eo-empty', 'empty')
    // The cluster test's case: the broker is killed while the job is idle, so the checkpoint restored
    // holds transactions that opened (their ids initialised) but got no records.
    const crashed = sink.createWriter(context())
    const state = await crashed.snapshotState!(1)
    await Promise.resolve(crashed.close?.()).catch(() => undefined)
    const pending = (state as Array<{ pending?: { transaction: KafkaTransactionState } }>).find((s) => s.pending)
      ?.pending?.transaction
    assert.ok(
      pending?.producerId !== undefined && pending.records === 0,
      `an initialised, empty transaction: ${JSON.stringify(state)}`,
    )
    // kafkajs sent no EndTxn for it (no partition was added): the coordinator holds it Empty and refuses a commit.
    const identity = { producerId: pending.producerId, producerEpoch: pending.producerEpoch ?? 0 }
    const refused = await endTransaction(client(kafka.brokers), pending.transactionalId, identity, true).then(
      () => 'accepted',
      (error: { type?: string }) => error.type,
    )
    assert.is(refused, 'INVALID_TXN_STATE')
    // Restored where no broker answers (as while a coordinator moves), the writer still settles it.
    const nowhere = new KafkaTransactionalSink<string>({
      client: { brokers: [`127.0.0.1:${await freePort()}`], retry: { retries: 0 }, connectionTimeout: 200 },
      topic: 'eo-empty',
      transactionalIdPrefix: 'empty',
      transactionTimeoutMs: TIMEOUT_MS,
    })
    const restored = nowhere.createWriter(context(), state)
    await restored.ready?.()
    await Promise.resolve(restored.close?.()).catch(() => undefined)
  },
)

/** Starts and ends one transaction under `transactionalId` with a plain kafkajs producer: the id moves on (epoch bumped). */
async function moveOn(transactionalId: string, end: 'commit' | 'abort'): Promise<void> {
  const producer = client(kafka.brokers).producer({
    transactionalId,
    maxInFlightRequests: 1,
    transactionTimeout: TIMEOUT_MS,
  })
  await producer.connect()
  try {
    const transaction = await producer.transaction()
    await transaction[end]()
  } finally {
    await producer.disconnect()
  }
}

ExactlyOnce(
  "a restored transaction committed before, whose id moved on since: 'old epoch' from the broker, its records read back committed: already committed",
  async () => {
    await kafka.createTopic('eo-moved-on', 1)
    const events: KafkaTransactionEvent[] = []
    const sink = transactionalSink('eo-moved-on', 'moved-on', { transactionListener: (e) => events.push(e) })
    const first = sink.createWriter(context())
    first.write('a', undefined)
    const state = await first.snapshotState!(1)
    await first.notifyCheckpointComplete!(1)
    await first.close()
    // A later transaction under the same id (here by hand): the broker now refuses the repeated commit.
    await moveOn('moved-on-0-1', 'abort')
    const restored = sink.createWriter(context(), state)
    await restored.ready?.()
    assert.ok(
      events.some((e) => e.type === 'recovered' && e.transactionalId === 'moved-on-0-1'),
      `the restore took moved-on-0-1 as committed: ${JSON.stringify(events)}`,
    )
    await restored.close()
    assert.equal(
      (await readLog(kafka.brokers, 'eo-moved-on', 'read_committed')).map((r) => r.value),
      ['a'],
    )
  },
)

ExactlyOnce(
  'a restored transaction aborted since its pre-commit (fenced under its id): ERR_TRANSACTION_LOST, its records never seen',
  async () => {
    await kafka.createTopic('eo-fenced-lost', 1)
    const sink = transactionalSink('eo-fenced-lost', 'fenced-lost')
    const crashed = sink.createWriter(context())
    crashed.write('b', undefined)
    const state = await crashed.snapshotState!(1)
    // Before the restore commits it, a producer initialises its id: the broker aborts it.
    await moveOn('fenced-lost-0-1', 'commit')
    await assertRestoreLoses(sink, state, crashed)
    assert.equal(
      await readLog(kafka.brokers, 'eo-fenced-lost', 'read_committed'),
      [],
      'the aborted record is never seen',
    )
  },
)

ExactlyOnce.run()

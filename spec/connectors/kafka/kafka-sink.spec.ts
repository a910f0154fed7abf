import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Kafka } from 'kafkajs'
import { KafkaTransactionalSink, type KafkaTransactionEvent, kafkaSink } from '../../../lib/connectors/kafka/index.js'
import type { KafkaTransaction } from '../../../lib/connectors/kafka/kafka-transaction.js'
import { ConfigError } from '../../../lib/errors.js'
import { map, StreamEnvironment } from '../../../lib/index.js'
import type { Logger } from '../../../lib/logging.js'
import { SequenceSource, type SequenceSplit } from '../../../lib/connectors/collections/sequence-source.js'
import type { Source, SourceReader, SourceReaderContext } from '../../../lib/runtime/source.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { type KafkaServer, startKafka } from '../../support/kafka-server.js'
import { sharedSlots } from '../../support/shared-flags.js'
import { SharedGate } from '../../support/shared-gate.js'
import { SharedList } from '../../support/shared-list.js'
import { ascending, busy, client, range, readLog } from './support.js'

/**
 * The Kafka sinks against Apache Kafka (one KRaft node, spec/support/kafka-server.ts). The exactly-once
 * tests read the output as a read_committed consumer does and check it is the input exactly, while the
 * aborted records stay in the log; the sink's transaction listener tells which transactions were
 * pre-committed, committed, recovered by producer id and epoch, and aborted. The listener, the faults
 * and the gate keep what they record in memory every thread of a test shares (`SharedList`,
 * `sharedSlots`, `SharedGate`): on the worker executor the writers and readers run in worker threads.
 */
const Sink = suite('kafka sink')
let server: KafkaServer
let brokers: string[]

Sink.before(async () => {
  server = await startKafka()
  brokers = server.brokers
})
Sink.after(async () => {
  await server.stop()
})

const checkpointed = (parallelism = 2, intervalMs = 20) =>
  StreamEnvironment.create({
    parallelism,
    logLevel: 'silent',
    checkpointing: { intervalMs },
    restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
  })

/**
 * A map that fails once, at the record `failAt` (`seen` counts the records of every subtask, over
 * every thread: `sharedSlots`), slowing down so checkpoints fall between records.
 */
function failOnce<T>(
  failAt: (value: T, seen: number) => boolean,
  slowEvery = 50,
): { op: ReturnType<typeof map<T, T>>; failed: () => boolean } {
  const [FAILED, SEEN] = [0, 1]
  const slots = sharedSlots(2)
  const op = map(
    (v: T) => {
      const seen = Atomics.add(slots, SEEN, 1) + 1
      if (seen % slowEvery === 0) busy(1)
      if (failAt(v, seen) && Atomics.compareExchange(slots, FAILED, 0, 1) === 0) throw new Error('injected')
      return v
    },
    { uid: 'faulty' },
  )
  return { op, failed: () => Atomics.load(slots, FAILED) === 1 }
}

/** The values a read_committed consumer sees in `topic`, ascending. */
async function committedValues(topic: string): Promise<number[]> {
  return ascending((await readLog(brokers, topic, 'read_committed')).map((r) => Number(r.value)))
}

Sink(
  'at-least-once: every record arrives with its key, headers and timestamp, in the partition the partitioner chose',
  async () => {
    await server.createTopic('alo-basic', 3)
    const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent' })
    env.fromCollection(range(1_000), { uid: 'src' }).sinkTo(
      kafkaSink<number>({
        brokers,
        topic: 'alo-basic',
        serializer: (n) => ({
          key: `k${n}`,
          value: String(n),
          headers: { parity: n % 2 === 0 ? 'even' : 'odd' },
          timestamp: 1_000_000 + n,
        }),
        partitioner: ({ value, partitionCount }) => value % partitionCount,
      }),
      { uid: 'sink' },
    )
    await env.execute()
    const log = await readLog(brokers, 'alo-basic')
    // at-least-once: a produce request the client retried (a timeout under load) may repeat its records
    assert.equal(ascending([...new Set(log.map((r) => Number(r.value)))]), range(1_000))
    for (const r of log) {
      const n = Number(r.value)
      assert.equal(
        [r.partition, r.key, r.headers.parity, r.timestamp],
        [n % 3, `k${n}`, n % 2 === 0 ? 'even' : 'odd', 1_000_000 + n],
      )
    }
  },
)

Sink('at-least-once loses nothing across a restore (records after the checkpoint may repeat)', async () => {
  await server.createTopic('alo-restore', 2)
  const env = checkpointed()
  const fail = failOnce<number>((_v, seen) => seen === 3_000)
  env
    .fromSequence(0, 5_999, { uid: 'src' })
    .pipe(fail.op)
    .sinkTo(kafkaSink<number>({ brokers, topic: 'alo-restore', lingerMs: 1 }), { uid: 'sink' })
  const result = await env.execute()
  assert.ok(fail.failed() && result.metrics.restarts === 1, 'failed once and restarted')
  const values = (await readLog(brokers, 'alo-restore')).map((r) => Number(r.value))
  assert.equal(
    [...new Set(values)].sort((a, b) => a - b),
    range(6_000),
    'every record at least once',
  )
})

/**
 * The sequence `from`..`to` (fromSequence's source) whose readers hold back the numbers for which
 * `held` is true until `gate` opens (in whichever thread): the input waits for an event, so a failure
 * that needs one (a committed transaction) fires before the input runs out, whatever the machine's load.
 */
class GatedSequence implements Source<number, SequenceSplit> {
  readonly name = 'gated-sequence'
  readonly bounded = true
  private readonly inner: SequenceSource

  constructor(
    from: number,
    to: number,
    private readonly gate: SharedGate,
    private readonly held: (next: number) => boolean,
  ) {
    this.inner = new SequenceSource(from, to)
  }

  createReader(context: SourceReaderContext, restored?: SequenceSplit[]): SourceReader<number, SequenceSplit> {
    const reader = this.inner.createReader(context, restored)
    const { gate, held } = this
    const waiting = (): boolean => {
      const next = reader.snapshotState(0)[0]?.next
      return !gate.isOpen && next !== undefined && held(next)
    }
    return {
      start: () => reader.start(),
      pollNext: (output) => (waiting() ? 'nothing-available' : reader.pollNext(output)),
      isAvailable: () => (waiting() ? gate.opened() : reader.isAvailable()),
      snapshotState: (id) => reader.snapshotState(id),
      close: () => reader.close(),
    }
  }
}

Sink(
  'exactly-once: one transaction per checkpoint; across a failure the committed transactions hold the input exactly',
  async () => {
    await server.createTopic('eo-restore', 3)
    const events = new SharedList<KafkaTransactionEvent>()
    // The failure: once a transaction of subtask 0 with records has committed (the gate), subtask 0's
    // sink fails at its next record whose open transaction has sent records (a batch of 5 goes out
    // at once; the abort waits for the sends, so they are in the log when it is aborted): the failed
    // run aborts a transaction with records, and the restored job has a checkpoint with records.
    // Neither waits for a moment in time: each step waits for the one before it.
    const gate = new SharedGate()
    const fault = sharedSlots(1)
    const failed = () => Atomics.load(fault, 0) === 1
    class FailingSink extends KafkaTransactionalSink<number> {
      protected override write(transaction: KafkaTransaction, value: number, timestamp: number | undefined): void {
        const sent = transaction.records > transaction.buffer.size
        if (gate.isOpen && transaction.subtask === 0 && sent && Atomics.compareExchange(fault, 0, 0, 1) === 0) {
          throw new Error('injected: the open transaction has sent records')
        }
        super.write(transaction, value, timestamp)
      }
    }
    // Several turns of records per checkpoint, so sends of the open transaction complete between them.
    const env = checkpointed(2, 100)
    // The sequence is split in halves, 0..3999 to subtask 0: each half's second quarter waits for the gate.
    const source = new GatedSequence(0, 7_999, gate, (next) => next % 4_000 >= 2_000)
    env
      .fromSource(source, { uid: 'src' })
      .pipe(map((v: number) => v, { uid: 'forward' }))
      .sinkTo(
        new FailingSink({
          brokers,
          topic: 'eo-restore',
          transactionalIdPrefix: 'eo-restore',
          batchSize: 5,
          maxInFlightRecords: 100,
          transactionListener: (e) => {
            events.push(e)
            if (e.type === 'committed' && e.records > 0 && e.transactionalId.split('-')[2] === '0') gate.open()
          },
        }),
        { uid: 'sink' },
      )
    const job = env.executeAsync()
    const result = await job.result
    assert.ok(
      failed() && result.metrics.restarts === 1,
      `failed once and restarted (failed: ${failed()}, restarts: ${result.metrics.restarts})`,
    )
    assert.equal(await committedValues('eo-restore'), range(8_000), 'a read_committed consumer sees every record once')
    const log = await readLog(brokers, 'eo-restore')
    assert.ok(log.length > 8_000, `the aborted records are in the log (${log.length}), hidden from read_committed`)
    const all = events.values()
    const committed = all.filter((e) => e.type === 'committed' || e.type === 'recovered')
    const aborted = all.filter((e) => e.type === 'aborted')
    assert.ok(
      aborted.some((e) => e.records > 0),
      'the transaction open at the failure was aborted',
    )
    // Every committed transaction was pre-committed on a barrier; ids name subtask and checkpoint.
    for (const e of committed) {
      assert.ok(
        all.some(
          (p) => p.type === 'pre-committed' && p.transactionalId === e.transactionalId && p.producerId === e.producerId,
        ),
        `${e.transactionalId} was pre-committed`,
      )
      assert.match(e.transactionalId, /^eo-restore-[01]-\d+$/)
    }
    const checkpoints = job.checkpoints().filter((c) => c.status === 'completed').length
    for (const subtask of ['0', '1']) {
      const count = committed.filter((e) => e.records > 0 && e.transactionalId.split('-')[2] === subtask).length
      assert.ok(
        count >= 2 && count <= checkpoints + 1,
        `subtask ${subtask}: ${count} transactions with records for ${checkpoints} checkpoints (at most one per checkpoint, plus the end of input)`,
      )
    }
    // A transaction may be committed again after the restore (commits are idempotent), never a different one under its id.
    for (const e of committed)
      assert.ok(
        committed.every((x) => x.producerId !== e.producerId || x.transactionalId === e.transactionalId),
        `producer ${e.producerId} belongs to one transaction`,
      )
    assert.ok(
      all.some((e) => e.type === 'recovered'),
      'the restored writers committed what the checkpoint recorded as pre-committed',
    )
    // The committed transactions (a repeated commit counted once) hold the input's record count.
    const distinct = new Map(committed.map((e) => [`${e.transactionalId}/${e.producerEpoch}`, e.records]))
    assert.is(
      [...distinct.values()].reduce((a, b) => a + b, 0),
      8_000,
    )
  },
)

Sink(
  'the window after a completed checkpoint: a crash before the commit is finished by the restored job, by producer id and epoch',
  async () => {
    await server.createTopic('eo-window', 2)
    const events = new SharedList<KafkaTransactionEvent>()
    const crash = sharedSlots(1)
    class CrashingSink extends KafkaTransactionalSink<number> {
      protected override commit(transaction: KafkaTransaction) {
        // The checkpoint is complete and the transaction pre-committed: the process "dies" before committing.
        if (transaction.records > 0 && Atomics.compareExchange(crash, 0, 0, 1) === 0) {
          return Promise.reject(new Error('crash before commit'))
        }
        return super.commit(transaction)
      }
    }
    const env = checkpointed(1)
    let seen = 0
    env
      .fromSequence(0, 2_999, { uid: 'src' })
      .pipe(
        map(
          (v: number) => {
            if (++seen % 50 === 0) busy(1)
            return v
          },
          { uid: 'slow' },
        ),
      )
      .sinkTo(
        new CrashingSink({
          brokers,
          topic: 'eo-window',
          transactionalIdPrefix: 'eo-window',
          transactionListener: (e) => events.push(e),
        }),
        { uid: 'sink' },
      )
    const result = await env.execute()
    assert.ok(Atomics.load(crash, 0) === 1 && result.metrics.restarts >= 1, 'the commit crashed and the job restarted')
    const all = events.values()
    const recovered = all.filter((e) => e.type === 'recovered')
    assert.ok(
      recovered.length >= 1 && recovered.some((e) => e.records > 0),
      'the restored writer committed the pre-committed transaction by producer id and epoch',
    )
    for (const r of recovered)
      assert.ok(
        all.some(
          (e) =>
            e.type === 'pre-committed' &&
            e.transactionalId === r.transactionalId &&
            e.producerId === r.producerId &&
            e.producerEpoch === r.producerEpoch,
        ),
        `${r.transactionalId}: the same producer id and epoch`,
      )
    assert.equal(await committedValues('eo-window'), range(3_000))
  },
)

Sink(
  'a restored writer aborts what an earlier run left open after the checkpoint before it opens a transaction',
  async () => {
    await server.createTopic('eo-lingering', 1)
    const created: string[] = []
    const kafka = client(brokers)
    const producer = kafka.producer.bind(kafka)
    ;(kafka as { producer: Kafka['producer'] }).producer = (config) => {
      if (config?.transactionalId !== undefined) created.push(config.transactionalId)
      return producer(config)
    }
    const sink = new KafkaTransactionalSink<number>({
      client: kafka,
      topic: 'eo-lingering',
      transactionalIdPrefix: 'lg',
    })
    const context = { subtask: 1, parallelism: 2, processingTime: systemProcessingTime }
    // The state of subtask 1 at checkpoint 7 of an earlier run with parallelism 4: subtask 1 now takes over old subtasks 1 and 3.
    const restored = [1, 3].flatMap((s) => [
      {
        pending: {
          checkpointId: 7,
          transaction: {
            v: 1,
            transactionalId: `lg-${s}-7`,
            subtask: s,
            parallelism: 4,
            n: 7,
            checkpointId: 7,
            records: 0,
          },
        },
      },
      { open: { v: 1, transactionalId: `lg-${s}-8`, subtask: s, parallelism: 4, n: 8, checkpointId: 7, records: 0 } },
    ])
    const writer = sink.createWriter(context, restored)
    writer.write(1, undefined)
    await writer.snapshotState!(8)
    await writer.notifyCheckpointComplete!(8)
    await writer.close()
    const firstOwn = created.indexOf('lg-1-8', created.indexOf('lg-1-10') + 1)
    assert.equal(
      created.slice(0, 6),
      ['lg-1-8', 'lg-1-9', 'lg-1-10', 'lg-3-8', 'lg-3-9', 'lg-3-10'],
      'ids after checkpoint 7 probed for old subtasks 1 and 3',
    )
    assert.ok(
      firstOwn >= 6,
      `the writer's own first transaction (lg-1-8) opened after the probes: ${created.join(', ')}`,
    )
    assert.not.ok(
      created.includes('lg-1-7') || created.includes('lg-3-7'),
      'pre-committed transactions are never re-initialised (that would abort them)',
    )
    const log = await readLog(brokers, 'eo-lingering')
    assert.equal(
      log.map((r) => r.value),
      ['1'],
    )
  },
)

Sink(
  'warns when the transaction timeout is shorter than the checkpoint interval plus the longest restart',
  async () => {
    const warnings: string[] = []
    const logger: Logger = {
      debug() {},
      info() {},
      warn: (m) => void warnings.push(m),
      error() {},
      child: () => logger,
    }
    const sink = new KafkaTransactionalSink<number>({
      brokers,
      topic: 'x',
      transactionalIdPrefix: 'warn',
      transactionTimeoutMs: 20_000,
      checkpointIntervalMs: 10_000,
      maxRestartMs: 15_000,
    })
    const writer = sink.createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime, logger })
    await writer.close()
    assert.is(warnings.length, 1)
    assert.match(warnings[0]!, /transactionTimeoutMs is shorter than checkpoint interval \+ maxRestartMs/)
  },
)

Sink('bad options are refused when the job is built, naming the option', () => {
  const option = (f: () => unknown): string | undefined => {
    try {
      f()
    } catch (e) {
      return e instanceof ConfigError ? e.option : `not a ConfigError: ${String(e)}`
    }
    return undefined
  }
  assert.is(
    option(() => kafkaSink({ brokers, topic: '' })),
    'kafkaSink.topic',
  )
  assert.is(
    option(() => kafkaSink({ brokers, topic: 't', guarantee: 'exactly-once' })),
    'kafkaSink.transactionalIdPrefix',
  )
  assert.is(
    option(() => kafkaSink({ brokers, topic: 't', guarantee: 'maybe' as never })),
    'kafkaSink.guarantee',
  )
  assert.is(
    option(() => kafkaSink({ brokers, topic: 't', partitioner: 'sticky' as never })),
    'kafkaSink.partitioner',
  )
  assert.is(
    option(() => kafkaSink({ brokers, topic: 't', acks: 0 as never })),
    'kafkaSink.acks',
  )
  assert.is(
    option(() => kafkaSink({ brokers: [], topic: 't' })),
    'kafkaSink.brokers',
  )
})

Sink.run()

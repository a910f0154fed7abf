import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { KafkaTransactionEvent } from '../../../lib/connectors/kafka/index.js'
import { runJobProcess } from '../../support/fault-process.js'
import { type KafkaServer, startKafka } from '../../support/kafka-server.js'
import { tempDir } from '../../support/temp-dir.js'
import { ascending, produce, range, readLog } from './support.js'

/**
 * Kafka to Kafka, exactly once, across SIGKILL: a child process reads a topic and writes it to another
 * with the transactional sink, checkpointing to a directory; it is killed after a few checkpoints and
 * started again on the same directory, which resumes from the newest complete checkpoint: the source
 * from its checkpointed offsets, the sink committing the transactions the checkpoint recorded by
 * producer id and epoch. A read_committed consumer then sees the input exactly: the transaction the
 * killed process left open is aborted (fenced) by the restarted one, never committed.
 *
 * Gating since 2026-12-04 (3 runs in a row at load 30 on 2 cores, about 95 s each). It was a known
 * defect until then: a read_committed read-back saw a few hundred records of one subtask twice. The
 * likely cause, fixed the same day: kafkajs's read_committed filter let records of aborted
 * transactions through (the connector now filters itself: aborted-records.ts).
 */
const Kill = suite('kafka kill and restore')
const SCRIPT = 'spec/connectors/kafka/kill-restore-job.ts'
let kafka: KafkaServer

Kill.before(async () => {
  kafka = await startKafka({ topics: { 'kill-in': 4, 'kill-out': 3 } })
})
Kill.after(async () => {
  await kafka?.stop() // undefined when the start in before() failed: uvu reports that failure
})

Kill(
  'SIGKILL mid-stream and a restart on the same checkpoint directory: the committed output equals the input exactly',
  async () => {
    await produce(
      kafka.brokers,
      'kill-in',
      range(30_000).map((i) => ({ value: String(i), partition: i % 4 })),
    )
    const dir = tempDir('sluice-kafka-kill-')
    try {
      const args = [kafka.brokers.join(','), 'kill-in', 'kill-out', dir.path]
      // At load 25–40 the first process took more than 30 s to reach its second checkpoint (2026-12-04)
      const first = await runJobProcess(SCRIPT, args, { after: 'checkpoint', checkpoints: 2, delayMs: 15 }, 120_000)
      assert.ok(
        first.killed,
        `the first process was killed: ${first.lines.filter((l) => !l.startsWith('txn')).join(', ')} ${first.stderr}`,
      )
      // ~13 checkpoints of one transaction each: on a loaded machine 30 s (the default) was too short
      const second = await runJobProcess(SCRIPT, args, undefined, 120_000)
      assert.is(second.code, 0, `the second process finished: ${second.stderr}`)
      const events = [...first.lines, ...second.lines]
        .filter((l) => l.startsWith('txn '))
        .map((l) => JSON.parse(l.slice(4)) as KafkaTransactionEvent)
      const committed = await readLog(kafka.brokers, 'kill-out', 'read_committed')
      assert.equal(
        ascending(committed.map((r) => Number(r.value))),
        range(30_000),
        'a read_committed consumer sees every input record once',
      )
      const log = await readLog(kafka.brokers, 'kill-out')
      assert.ok(
        events.some((e) => e.type === 'lingering-aborted') || log.length === committed.length,
        'what the killed process left open was aborted by the restart',
      )
      const secondEvents = second.lines
        .filter((l) => l.startsWith('txn '))
        .map((l) => JSON.parse(l.slice(4)) as KafkaTransactionEvent)
      assert.ok(
        secondEvents.some((e) => e.type === 'recovered' || e.type === 'committed'),
        'the restarted process committed',
      )
      assert.ok(
        first.lines.some((l) => l.startsWith('checkpoint ')) && !second.lines.includes('fresh'),
        'it restored from a checkpoint',
      )
    } finally {
      dir.remove()
    }
  },
)

Kill.run()

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { KafkaTransactionEvent } from '../../../lib/connectors/kafka/index.js'
import { runJobProcess } from '../../support/fault-process.js'
import { type KafkaMock, startKafkaMock } from '../../support/kafka-mock.js'
import { tempDir } from '../../support/temp-dir.js'
import { ascending, produce, range, readLog } from './support.js'

/**
 * Kafka to Kafka, exactly once, across SIGKILL: a child process reads a topic and writes it to another
 * with the transactional sink, checkpointing to a directory; it is killed after a few checkpoints and
 * started again on the same directory, which resumes from the newest complete checkpoint: the source
 * from its checkpointed offsets, the sink committing the transactions the checkpoint recorded by
 * producer id and epoch. The records of the committed transactions (told by both processes) are then
 * the input exactly — the mock keeps aborted records in the log, so they are attributed by producer id.
 */
const Kill = suite('kafka kill and restore')
const SCRIPT = 'spec/connectors/kafka/kill-restore-job.ts'
let mock: KafkaMock

Kill.before(async () => {
  mock = await startKafkaMock({ brokers: 2, topics: { 'kill-in': 4, 'kill-out': 3 } })
})
Kill.after(async () => {
  await mock.stop()
})

Kill(
  'SIGKILL mid-stream and a restart on the same checkpoint directory: the committed output equals the input exactly',
  async () => {
    await produce(
      mock.brokers,
      'kill-in',
      range(30_000).map((i) => ({ value: String(i), partition: i % 4 })),
    )
    const dir = tempDir('sluice-kafka-kill-')
    try {
      const args = [mock.brokers.join(','), 'kill-in', 'kill-out', dir.path]
      const first = await runJobProcess(SCRIPT, args, { after: 'checkpoint', checkpoints: 2, delayMs: 15 })
      assert.ok(
        first.killed,
        `the first process was killed: ${first.lines.filter((l) => !l.startsWith('txn')).join(', ')} ${first.stderr}`,
      )
      const second = await runJobProcess(SCRIPT, args, undefined)
      assert.is(second.code, 0, `the second process finished: ${second.stderr}`)
      const events = [...first.lines, ...second.lines]
        .filter((l) => l.startsWith('txn '))
        .map((l) => JSON.parse(l.slice(4)) as KafkaTransactionEvent)
      const committed = new Set(
        events.filter((e) => e.type === 'committed' || e.type === 'recovered').map((e) => e.producerId),
      )
      const log = await readLog(mock.brokers, 'kill-out')
      const values = log.filter((r) => committed.has(r.producerId)).map((r) => Number(r.value))
      assert.equal(ascending(values), range(30_000), 'the committed transactions hold every input record once')
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

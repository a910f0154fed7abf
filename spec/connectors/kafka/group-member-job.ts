/**
 * One process of the scale-out test, run as its own process:
 *
 *   node --import tsx spec/connectors/kafka/group-member-job.ts <brokers> <topic> <group> <output file>
 *
 * Runs a job (2 subtasks, checkpoints every 50 ms in this process's memory) whose Kafka source joins
 * consumer group <group>: the group splits the topic's partitions over the subtasks of every process
 * running it. Each record's value is appended to <output file>. Prints `running`, then
 * `assigned <subtask> <partitions…>` whenever a subtask's partitions change; stops on SIGTERM.
 */
import { appendFileSync } from 'node:fs'
import { kafkaSource, type KafkaRecord } from '../../../lib/connectors/kafka/index.js'
import { StreamEnvironment } from '../../../lib/index.js'

const [brokers, topic, groupId, output] = process.argv.slice(2)
if (output === undefined) {
  process.stderr.write('usage: group-member-job.ts <brokers> <topic> <group> <output file>\n')
  process.exit(2)
}
const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent', checkpointing: { intervalMs: 50 } })
env
  .fromSource(
    kafkaSource<KafkaRecord<string | null, string | null, string>>({
      brokers: brokers!.split(','),
      topics: topic!,
      groupId: groupId!,
      assignment: 'consumer-group',
      deserializer: 'string',
      fetchMaxWaitMs: 20,
      sessionTimeoutMs: 6_000,
      onPartitionsAssigned: ({ subtask, partitions }) =>
        void process.stdout.write(`assigned ${subtask} ${partitions.join(' ')}\n`),
    }),
    { uid: 'kafka' },
  )
  .sinkTo(
    {
      name: 'file',
      guarantee: 'at-least-once',
      createWriter: () => ({
        write: (r: KafkaRecord<string | null, string | null, string>) => appendFileSync(output, `${r.value}\n`),
        close() {},
      }),
    },
    { uid: 'file' },
  )
const job = env.executeAsync('group member')
void job.running.then(() => process.stdout.write('running\n'))
process.on('SIGTERM', () => {
  void job.cancel().finally(() => process.exit(0))
})
try {
  await job.result
} catch (error) {
  process.stderr.write(`job failed: ${(error as Error)?.stack ?? String(error)}\n`)
  process.exit(1)
}

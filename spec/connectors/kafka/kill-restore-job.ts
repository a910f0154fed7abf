/**
 * The job of the Kafka SIGKILL test, run as its own process:
 *
 *   node --import tsx spec/connectors/kafka/kill-restore-job.ts <brokers> <in topic> <out topic> <work dir>
 *
 * Reads <in topic> to its end offsets (2 subtasks), slows down a little, and writes every value to
 * <out topic> with the exactly-once Kafka sink; checkpoints every 50 ms go to <work dir>/checkpoints
 * (DirectoryStorage), and started again on the same directory the job resumes from the newest complete
 * checkpoint there. Prints `running`, `checkpoint <id>`, `txn <event json>` for every transaction event,
 * and `finished`; exits 0 when the job finished, 1 when it failed.
 */
import { join } from 'node:path'
import { DirectoryStorage } from '../../../lib/checkpoint/directory-storage.js'
import { kafkaSink, kafkaSource, type KafkaRecord } from '../../../lib/connectors/kafka/index.js'
import { map, StreamEnvironment } from '../../../lib/index.js'
import { jobArguments, reportJob } from '../../support/job-process.js'

const [brokers, input, output, workDir] = jobArguments(
  'spec/connectors/kafka/kill-restore-job.ts',
  '<brokers>',
  '<in topic>',
  '<out topic>',
  '<work dir>',
)
const env = StreamEnvironment.create({
  parallelism: 2,
  logLevel: 'silent',
  checkpointing: { intervalMs: 50, storage: new DirectoryStorage(join(workDir, 'checkpoints')) },
})
let seen = 0
env
  .fromSource(
    kafkaSource<KafkaRecord<string | null, string | null, string>>({
      brokers: brokers!.split(','),
      topics: input!,
      deserializer: 'string',
      stopAt: 'latest',
      fetchMaxWaitMs: 20,
      maxBufferedRecords: 500,
    }),
    { uid: 'in' },
  )
  .pipe(
    map(
      (r: KafkaRecord<string | null, string | null, string>) => {
        if (++seen % 25 === 0) {
          const end = performance.now() + 1
          while (performance.now() < end);
        }
        return r.value!
      },
      { uid: 'slow' },
    ),
  )
  .sinkTo(
    kafkaSink<string>({
      brokers: brokers!.split(','),
      topic: output!,
      guarantee: 'exactly-once',
      transactionalIdPrefix: `kill-${output}`,
      batchSize: 50,
      // called where the writer runs: in a worker thread on the worker executor, whose stdout reaches the
      // process's (say() prints on the coordinator only, for the lines every thread would print)
      transactionListener: (e) => void process.stdout.write(`txn ${JSON.stringify(e)}\n`),
    }),
    { uid: 'out' },
  )
const job = env.executeAsync('kafka kill and restore')
reportJob(job)

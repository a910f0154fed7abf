/**
 * The job of the Flume SIGKILL test, run as its own process:
 *
 *   node --import tsx spec/connectors/flume/kill-restore-job.ts <avro host:port> <count> <run tag> <work dir>
 *
 * Writes 0 … count−1 (a little slowed down) as events `{ run: <run tag> }` / the number to a Flume
 * agent's Avro source with the Flume sink; checkpoints every 50 ms go to <work dir>/checkpoints
 * (DirectoryStorage), and started again on the same directory the job resumes from the newest complete
 * checkpoint there. Prints `running`, `checkpoint <id>` and `finished`; exits 0 when the job finished, 1
 * when it failed.
 */
import { join } from 'node:path'
import { DirectoryStorage } from '../../../lib/checkpoint/directory-storage.js'
import { flumeSink } from '../../../lib/connectors/flume/index.js'
import { map, StreamEnvironment } from '../../../lib/index.js'
import { jobArguments, reportJob } from '../../support/job-process.js'

const [host, count, run, workDir] = jobArguments(
  'spec/connectors/flume/kill-restore-job.ts',
  '<avro host:port>',
  '<count>',
  '<run tag>',
  '<work dir>',
)
const env = StreamEnvironment.create({
  parallelism: 1,
  logLevel: 'silent',
  checkpointing: { intervalMs: 50, storage: new DirectoryStorage(join(workDir, 'checkpoints')) },
})
let seen = 0
env
  .fromSequence(0, Number(count) - 1, { uid: 'numbers' })
  .pipe(
    map(
      (n: number) => {
        if (++seen % 25 === 0) {
          const end = performance.now() + 1
          while (performance.now() < end);
        }
        return n
      },
      { uid: 'slow' },
    ),
  )
  .sinkTo(
    flumeSink<number>({
      hosts: host!,
      maxBatchRecords: 50,
      maxInFlightRecords: 100,
      retry: { maxRetries: 20, initialDelayMs: 50, maxDelayMs: 500 },
      mapper: (n) => ({ headers: { run: run! }, body: String(n) }),
    }),
    { uid: 'flume' },
  )
const job = env.executeAsync('flume kill and restore')
reportJob(job)

/**
 * A Redis job for SIGKILL tests, run as its own process:
 *
 *   node --import tsx spec/connectors/redis/child-job.ts '<plan json>' <work dir>
 *
 * plan.kind 'source': reads plan.stream (group 'g', exactly-once, bounded) into the file ledger
 * `<work dir>/ledger` (exactly-once). plan.kind 'sink': writes the numbers 0 … plan.records-1 with SADD
 * to plan.key. Checkpoints go to `<work dir>/checkpoints` (DirectoryStorage); started again with the
 * same directory the job resumes from the newest complete checkpoint there. It prints `running`,
 * `checkpoint <id>` and `finished`, as spec/support/fault-process.ts expects, and exits 0 when the
 * job finished, 1 when it failed.
 */
import { join } from 'node:path'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { DirectoryStorage } from '../../../lib/checkpoint/directory-storage.js'
import { RedisSink, RedisStreamSource, type RedisStreamEntry } from '../../../lib/connectors/redis/index.js'
import { asyncMap } from '../../../lib/operators/async-map.js'
import { FileLedger, FileLedgerSink } from '../../support/ledger-files.js'
import { jobArguments, reportJob } from '../../support/job-process.js'

export interface RedisChildPlan {
  readonly kind: 'source' | 'sink'
  readonly port: number
  readonly stream?: string
  readonly key?: string
  readonly records: number
  readonly parallelism: number
}

const [planText, workDir] = jobArguments('spec/connectors/redis/child-job.ts', '<plan json>', '<work dir>')
const plan = JSON.parse(planText) as RedisChildPlan

const env = StreamEnvironment.create({
  parallelism: plan.parallelism,
  batchSize: 64,
  logLevel: 'silent',
  checkpointing: { intervalMs: 20, storage: new DirectoryStorage(join(workDir, 'checkpoints')) },
})
let seen = 0
if (plan.kind === 'source') {
  env
    .fromSource(
      new RedisStreamSource({
        stream: plan.stream!,
        group: 'g',
        connection: { port: plan.port },
        guarantee: 'exactly-once',
        bounded: true,
        batchSize: 100,
      }),
      { uid: 'redis-source' },
    )
    // waits a timer turn every 20 entries: slow enough to be killed mid-stream, without starving the loop
    .pipe(
      asyncMap(
        async (e: RedisStreamEntry) => {
          if (++seen % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 1))
          return Number(e.fields.n)
        },
        { capacity: 4, uid: 'slow' },
      ),
    )
    .sinkTo(new FileLedgerSink(new FileLedger(join(workDir, 'ledger'))), { uid: 'ledger' })
} else {
  // a source that waits a timer turn every 20 numbers: slow enough to be killed mid-stream, and made
  // again and skipped to its checkpointed position on a restore
  env
    .fromAsyncIterable(
      async function* () {
        for (let n = 0; n < plan.records; n++) {
          if (n % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 1))
          yield n
        }
      },
      { uid: 'numbers' },
    )
    .sinkTo(
      new RedisSink<number>({
        connection: { port: plan.port },
        mapper: { command: 'SADD', key: () => plan.key!, value: (n) => n },
      }),
      { uid: 'redis-sink' },
    )
}
const job = env.executeAsync(`redis ${plan.kind}`)
reportJob(job)

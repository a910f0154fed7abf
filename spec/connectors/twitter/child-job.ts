/**
 * A Twitter ingestion job for SIGKILL tests, run as its own process:
 *
 *   node --import tsx spec/connectors/twitter/child-job.ts <work dir> <base url> <bearer token>
 *
 * A TwitterSource on the sample stream of the X protocol server at <base url>, with backfill (1
 * minute), feeds the tweet ids into the exactly-once file ledger `<work dir>/ledger`; checkpoints go
 * to `<work dir>/checkpoints`, and a process started again on the same directory resumes from the
 * newest complete one there. It prints `running` and `checkpoint <id>`; it never ends by itself.
 */
import { join } from 'node:path'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { DirectoryStorage } from '../../../lib/checkpoint/directory-storage.js'
import { TwitterSource } from '../../../lib/connectors/twitter/index.js'
import { map } from '../../../lib/operators/map.js'
import { FileLedger, FileLedgerSink } from '../../support/ledger-files.js'

const [workDir, baseUrl, bearerToken] = process.argv.slice(2)
if (workDir === undefined || baseUrl === undefined || bearerToken === undefined) {
  process.stderr.write('usage: child-job.ts <work dir> <base url> <bearer token>\n')
  process.exit(2)
}
const say = (line: string): void => void process.stdout.write(`${line}\n`)

const source = new TwitterSource({
  bearerToken,
  baseUrl,
  stream: 'sample',
  backfillMinutes: 1,
  networkDelayStepMs: 20,
  rateLimitDelayMs: 100,
  initialDelayMs: 50,
  maxDelayMs: 500,
})
const env = StreamEnvironment.create({
  logLevel: 'silent',
  batchSize: 16,
  checkpointing: { intervalMs: 20, storage: new DirectoryStorage(join(workDir, 'checkpoints')) },
})
env
  .fromSource(source, { uid: 'tweets' })
  .pipe(map((record) => record.tweet.id))
  .sinkTo(new FileLedgerSink(new FileLedger(join(workDir, 'ledger'))), { uid: 'ledger' })
const job = env.executeAsync('x ingest')
void job.running.then(() => say('running'))
let reported = 0
setInterval(() => {
  for (const c of job.checkpoints()) {
    if (c.status === 'completed' && c.id > reported) {
      reported = c.id
      say(`checkpoint ${c.id}`)
    }
  }
}, 5)
job.result.catch((error) => {
  process.stderr.write(`job failed: ${(error as Error)?.stack ?? String(error)}\n`)
  process.exit(1)
})

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
import { jobArguments, reportJob } from '../../support/job-process.js'

const [workDir, baseUrl, bearerToken] = jobArguments(
  'spec/connectors/twitter/child-job.ts',
  '<work dir>',
  '<base url>',
  '<bearer token>',
)

const source = new TwitterSource({
  bearerToken,
  baseUrl,
  stream: 'sample',
  backfillMinutes: 1,
  networkDelayStepMs: 20,
  rateLimitDelayMs: 100,
  retry: { initialDelayMs: 50, maxDelayMs: 500 },
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
reportJob(job)

/**
 * An HTTP ingestion job for SIGKILL tests, run as its own process:
 *
 *   node --import tsx spec/connectors/http-server/child-job.ts <work dir>
 *
 * An HttpServerSource in 'checkpointed' mode on a free loopback port (NDJSON of `{ "n": number }`)
 * feeds the exactly-once file ledger `<work dir>/ledger`; checkpoints go to `<work dir>/checkpoints`,
 * and a process started again on the same directory resumes from the newest complete one there. It
 * prints `listening <url>`, `running` and `checkpoint <id>`; it never ends by itself.
 */
import { join } from 'node:path'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { DirectoryStorage } from '../../../lib/checkpoint/directory-storage.js'
import { HttpServerSource } from '../../../lib/connectors/http-server/index.js'
import { asyncMap } from '../../../lib/operators/async-map.js'
import { FileLedger, FileLedgerSink } from '../../support/ledger-files.js'

const [workDir] = process.argv.slice(2)
if (workDir === undefined) {
  process.stderr.write('usage: child-job.ts <work dir>\n')
  process.exit(2)
}
const say = (line: string): void => void process.stdout.write(`${line}\n`)
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1))

const source = new HttpServerSource<{ n: number }>({
  format: 'ndjson',
  ackMode: 'checkpointed',
  maxBufferedRecords: 64,
})
const env = StreamEnvironment.create({
  logLevel: 'silent',
  batchSize: 16,
  checkpointing: { intervalMs: 20, storage: new DirectoryStorage(join(workDir, 'checkpoints')) },
})
let seen = 0
env
  .fromSource(source, { uid: 'http-source' })
  // a timer turn every 20 records: slow enough to be killed mid-stream with records in flight
  .pipe(
    asyncMap(
      async (record: { n: number }) => {
        if (++seen % 20 === 0) await tick()
        return record.n
      },
      { capacity: 4, uid: 'slow' },
    ),
  )
  .sinkTo(new FileLedgerSink(new FileLedger(join(workDir, 'ledger'))), { uid: 'ledger' })
const job = env.executeAsync('http ingest')
void source.listening().then(({ url }) => say(`listening ${url}`))
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

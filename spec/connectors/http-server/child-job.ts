/**
 * An HTTP ingestion job for SIGKILL tests, run as its own process:
 *
 *   node --import tsx spec/connectors/http-server/child-job.ts <work dir> [<crash at completion k>]
 *
 * An HttpServerSource in 'checkpointed' mode on a free loopback port (NDJSON of `{ "n": number }`)
 * feeds the exactly-once file ledger `<work dir>/ledger`; checkpoints go to `<work dir>/checkpoints`,
 * and a process started again on the same directory resumes from the newest complete one there. It
 * prints `listening <url>`, `running`, `checkpoint <id>` and `duplicates <n>` (requests answered as
 * retries of covered keys); it never ends by itself. With k > 0 the process SIGKILLs itself when the
 * source is told of its k-th completed checkpoint, before it answers that checkpoint's requests: the
 * records are durable and their clients have no answer, so they retry keys the restored job must know.
 */
import { join } from 'node:path'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { DirectoryStorage } from '../../../lib/checkpoint/directory-storage.js'
import { HttpServerSource, type HttpServerReader } from '../../../lib/connectors/http-server/index.js'
import type { SourceReaderContext } from '../../../lib/runtime/source.js'
import { asyncMap } from '../../../lib/operators/async-map.js'
import { FileLedger, FileLedgerSink } from '../../support/ledger-files.js'
import { jobArguments, reportJob, say } from '../../support/job-process.js'

const [workDir, crashAt = '0'] = jobArguments(
  'spec/connectors/http-server/child-job.ts',
  '<work dir>',
  '[<crash at completion k>]',
)
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1))

/** The source whose reader kills the process at the `crashAt`-th completion notice, before answering. */
class CrashingSource extends HttpServerSource<{ n: number }> {
  override createReader(context: SourceReaderContext, restored?: never[]): HttpServerReader<{ n: number }> {
    const reader = super.createReader(context, restored)
    const notify = reader.notifyCheckpointComplete.bind(reader)
    let completions = 0
    reader.notifyCheckpointComplete = (id) => {
      if (++completions === Number(crashAt)) process.kill(process.pid, 'SIGKILL')
      notify(id)
    }
    return reader
  }
}

const source = new CrashingSource({
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
let duplicates = 0
reportJob(job, {
  onTick: () => {
    if (source.stats.duplicates > duplicates) say(`duplicates ${(duplicates = source.stats.duplicates)}`)
  },
})

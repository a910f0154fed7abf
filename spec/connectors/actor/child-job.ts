/**
 * An actor-source job with its sender, for SIGKILL tests, run as its own process:
 *
 *   node --import tsx spec/connectors/actor/child-job.ts <work dir> <messages> [<crash at completion k>]
 *
 * An ActorSource in 'checkpointed' mode feeds the exactly-once file ledger `<work dir>/ledger`;
 * checkpoints go to `<work dir>/checkpoints`, and a process started again on the same directory
 * resumes from the newest complete one there. The sender, in the same process, tells messages
 * `m1`…`m<messages>` (message i holds the records 2i and 2i+1) with at most 8 waiting for their answer,
 * and resends a message until it is answered `ack` or `duplicate`; it appends each answered id to
 * `<work dir>/acked` (its own durable progress, as a real producer keeps one), so a process started
 * again resends exactly the messages never answered. It prints `running`, `checkpoint <id>`,
 * `acked <n>`, `duplicates <n>` and `done` when every message is answered, and exits 0 two completed
 * checkpoints later.
 * With k > 0 the process SIGKILLs itself when the source is told of its k-th completed checkpoint,
 * before it answers that checkpoint's messages: the records are durable and their sender has no
 * answer, so it resends ids the restored job must recognise.
 * The job runs at parallelism 2 on the executor SLUICE_EXECUTOR names: on workers the readers (and
 * the kill from inside) are in worker threads, the source's actor and the sender on the main thread.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { DirectoryStorage } from '../../../lib/checkpoint/directory-storage.js'
import { ActorSource, type ActorSourceReader, type ActorSourceReply } from '../../../lib/connectors/actor/index.js'
import { asyncMap } from '../../../lib/operators/async-map.js'
import type { SourceReaderContext } from '../../../lib/runtime/source.js'
import { FileLedger, FileLedgerSink } from '../../support/ledger-files.js'
import { jobArguments, reportJob, say } from '../../support/job-process.js'

const [workDir, messagesArg, crashAt = '0'] = jobArguments(
  'spec/connectors/actor/child-job.ts',
  '<work dir>',
  '<messages>',
  '[<crash at completion k>]',
)
const messages = Number(messagesArg)
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1))

/** The source whose reader kills the process at the `crashAt`-th completion notice, before answering. */
class CrashingSource extends ActorSource<number> {
  override createReader(context: SourceReaderContext, restored?: never[]): ActorSourceReader<number> {
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

const source = new CrashingSource({ ackMode: 'checkpointed', maxBufferedRecords: 32, actorName: 'ingest' })
const env = StreamEnvironment.create({
  logLevel: 'silent',
  parallelism: 2,
  batchSize: 16,
  checkpointing: { intervalMs: 20, storage: new DirectoryStorage(join(workDir, 'checkpoints')) },
})
let seen = 0
env
  .fromSource(source, { uid: 'actor-source' })
  // a timer turn every 20 records: slow enough to be killed mid-stream with records in flight
  .pipe(
    asyncMap(
      async (n: number) => {
        if (++seen % 20 === 0) await tick()
        return n
      },
      { capacity: 4, uid: 'slow' },
    ),
  )
  .sinkTo(new FileLedgerSink(new FileLedger(join(workDir, 'ledger'))), { uid: 'ledger' })
const job = env.executeAsync('actor ingest')

const ackedFile = join(workDir, 'acked')
const answered = new Set<number>(
  existsSync(ackedFile) ? readFileSync(ackedFile, 'utf8').split('\n').filter(Boolean).map(Number) : [],
)
let duplicates = 0
let next = 1

/** Sends message i until it is answered, then records the answer durably. */
async function deliver(i: number): Promise<void> {
  for (;;) {
    let reply: ActorSourceReply | undefined
    try {
      reply = await source.ref.ask<ActorSourceReply>(
        (replyTo) => ({ type: 'batch', values: [2 * i, 2 * i + 1], id: `m${i}`, replyTo }),
        3_000,
      )
    } catch {
      // not running yet, restarting, or no answer in time: send it again
    }
    if (reply?.type === 'ack' || reply?.type === 'duplicate') {
      if (reply.type === 'duplicate') say(`duplicates ${++duplicates}`)
      appendFileSync(ackedFile, `${i}\n`)
      answered.add(i)
      return
    }
    await tick()
  }
}

async function sender(): Promise<void> {
  for (;;) {
    while (next <= messages && answered.has(next)) next++
    if (next > messages) return
    await deliver(next++)
  }
}

void job.running.then(async () => {
  await Promise.all(Array.from({ length: 8 }, () => sender()))
  say('done')
  // every answer came after its checkpoint completed; one more completion lets the ledger commit it too
  const last = job.checkpoints().filter((c) => c.status === 'completed').length
  const poll = setInterval(() => {
    if (job.checkpoints().filter((c) => c.status === 'completed').length >= last + 2) {
      clearInterval(poll)
      void job.cancel() // the job ends 'cancelled': reportJob prints finished and exits 0
    }
  }, 5)
})
reportJob(job, { onTick: () => say(`acked ${answered.size}`) })

/**
 * A job for the NiFi SIGKILL test, run as its own process:
 *
 *   node --import tsx spec/connectors/nifi/kill-job.ts '<args json>' <work dir>
 *
 * `{ url, count }`: reads the output port `out` of the test NiFi (spec/support/nifi-s2s-server.ts,
 * running in the test's process) with the NiFi source and writes every FlowFile, re-labelled, to its
 * input port `in` with the NiFi sink; both exactly-once. It ends itself (exit 0, 'finished') once the
 * server's test endpoint shows `count` FlowFiles received on `in`, nothing queued on `out` and no open
 * transaction. Checkpoints go to `<work dir>/checkpoints` (DirectoryStorage); started again on the same
 * directory, the job resumes from the newest complete checkpoint. Prints `fresh|restoring <id>`,
 * `running`, `checkpoint <id>`, `finished`, as spec/support/fault-process.ts expects.
 */
import { join } from 'node:path'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { DirectoryStorage } from '../../../lib/checkpoint/directory-storage.js'
import { type NiFiRecord, NiFiSink, NiFiSource } from '../../../lib/connectors/nifi/index.js'
import { map } from '../../../lib/index.js'
import { jobArguments, reportJob, say } from '../../support/job-process.js'
import { busyWait } from '../../support/fault-injection.js'

const [argsText, workDir] = jobArguments('spec/connectors/nifi/kill-job.ts', '<args json>', '<work dir>')
const args = JSON.parse(argsText) as { url: string; count: number }
const storage = new DirectoryStorage(join(workDir, 'checkpoints'))
const restored = await storage.latest()
say(restored === undefined ? 'fresh' : `restoring ${restored.id}`)

const retry = { initialDelayMs: 5, maxDelayMs: 100, maxRetries: 20 }
const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 50, storage } })
let seen = 0
env
  .fromSource(new NiFiSource({ urls: args.url, portName: 'out', batchCount: 100, pollIntervalMs: 10, ...retry }), {
    uid: 'nifi-in',
  })
  .pipe(
    map(
      (f: NiFiRecord) => {
        if (++seen % 10 === 0) busyWait(1) // about 1 s of work for 10,000 FlowFiles: the kills land mid-stream
        return { seq: f.attributes.seq ?? '?', uuid: f.attributes.uuid ?? '?', text: f.content.toString() }
      },
      { uid: 'relabel' },
    ),
  )
  .sinkTo(
    new NiFiSink({
      urls: args.url,
      portName: 'in',
      batchCount: 200,
      ...retry,
      flowFile: (r: { seq: string; uuid: string; text: string }) => ({
        attributes: { seq: r.seq, 'source.uuid': r.uuid },
        content: Buffer.from(r.text),
      }),
    }),
    { uid: 'nifi-out' },
  )

const job = env.executeAsync('nifi kill job')
let asking = false
reportJob(job, {
  intervalMs: 20,
  onTick: () => {
    if (asking) return
    asking = true
    fetch(new URL('/test/state', args.url))
      .then((r) => r.json() as Promise<{ received: { in: number }; queued: { out: number }; openTransactions: number }>)
      .then((s) => {
        if (s.received.in >= args.count && s.queued.out === 0 && s.openTransactions === 0) void job.cancel()
      })
      .catch(() => undefined)
      .finally(() => {
        asking = false
      })
  },
})

/**
 * A job for the ActiveMQ SIGKILL tests, run as its own process:
 *
 *   node --import tsx spec/connectors/activemq/kill-job.ts '<args json>' <work dir>
 *
 * `{ mode: 'source', port, destination, count }`: reads `destination` exactly-once over STOMP into the file ledger
 * `<work dir>/ledger`; it ends itself (exit 0, 'finished') once `count` records are committed and every
 * message is acknowledged. `{ mode: 'sink', port, destination, input }`: reads the queue `input`
 * (at-least-once) and sends every message to `destination`; it ends itself once nothing arrived for
 * 500 ms and everything read is acknowledged (so every message sent was receipted before a completed
 * checkpoint). A broker source rather than `fromSequence`: a fast chained sequence source keeps
 * DirectoryStorage checkpoints from completing while it runs, and the kills must land between
 * completed checkpoints. Checkpoints go to `<work dir>/checkpoints` (DirectoryStorage); started again on
 * the same directory, the job resumes from the newest complete checkpoint. Prints `fresh|restoring <id>`,
 * `running`, `checkpoint <id>`, `finished`, as spec/support/fault-process.ts expects.
 */
import { join } from 'node:path'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { DirectoryStorage } from '../../../lib/checkpoint/directory-storage.js'
import { type ActiveMQMessage, ActiveMQSink, ActiveMQSource } from '../../../lib/connectors/activemq/index.js'
import { map } from '../../../lib/index.js'
import { recordReaders } from '../../support/amqp-broker.js'
import { FileLedger, FileLedgerSink } from '../../support/ledger-files.js'
import { jobArguments, reportJob, say } from '../../support/job-process.js'

interface Args {
  readonly mode: 'source' | 'sink'
  readonly port: number
  readonly destination: string
  readonly count: number
  readonly input: string
}

const [argsText, workDir] = jobArguments('spec/connectors/activemq/kill-job.ts', '<args json>', '<work dir>')
const args = JSON.parse(argsText) as Args
const storage = new DirectoryStorage(join(workDir, 'checkpoints'))
const restored = await storage.latest()
say(restored === undefined ? 'fresh' : `restoring ${restored.id}`)

const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 20, storage } })
let seen = 0
const slow = <T>(value: T): T => {
  // about 2 s of work for 20,000 records, so that the kills land mid-stream
  if (++seen % 10 === 0) busy(1)
  return value
}
let done: () => boolean = () => false
let summary: () => string = () => ''
if (args.mode === 'source') {
  const ledgerDir = join(workDir, 'ledger')
  const { source, readers } = recordReaders(
    new ActiveMQSource({
      host: '127.0.0.1',
      port: args.port,
      destination: args.destination,
      prefetch: 200,
      guarantee: 'exactly-once',
    }),
  )
  env
    .fromSource(source, { uid: 'activemq' })
    .pipe(map((m: ActiveMQMessage) => slow(m.body.toString()), { uid: 'slow' }))
    .sinkTo(new FileLedgerSink(new FileLedger(ledgerDir)), { uid: 'ledger' })
  done = () => readers.at(-1)?.unacknowledged === 0 && FileLedger.readCommitted(ledgerDir).length >= args.count
  summary = () => `skipped ${readers.reduce((n, r) => n + r.duplicates, 0)} redelivered duplicate(s)`
} else {
  const { source, readers } = recordReaders(
    new ActiveMQSource({ host: '127.0.0.1', port: args.port, destination: args.input, prefetch: 200 }),
  )
  let last = performance.now()
  env
    .fromSource(source, { uid: 'input' })
    .pipe(
      map(
        (m: ActiveMQMessage) => {
          last = performance.now()
          return slow(m.body.toString())
        },
        { uid: 'slow' },
      ),
    )
    .sinkTo(new ActiveMQSink<string>({ host: '127.0.0.1', port: args.port, destination: args.destination }), {
      uid: 'activemq',
    })
  done = () => performance.now() - last > 500 && readers.at(-1)?.unacknowledged === 0
}

const job = env.executeAsync(`activemq kill job (${args.mode})`)
reportJob(job, {
  intervalMs: 20,
  onTick: () => {
    if (done()) void job.cancel()
  },
  onFinished: () => {
    if (summary() !== '') say(summary())
  },
})

function busy(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end);
}

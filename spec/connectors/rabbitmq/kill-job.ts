/**
 * A job for the RabbitMQ SIGKILL tests, run as its own process:
 *
 *   node --import tsx spec/connectors/rabbitmq/kill-job.ts '<args json>' <work dir>
 *
 * `{ mode: 'source', url, queue, count }`: reads `queue` exactly-once into the file ledger
 * `<work dir>/ledger`; it ends itself (exit 0, 'finished') once `count` records are committed and every
 * message is acknowledged. `{ mode: 'sink', url, queue, input }`: reads the queue `input` (at-least-once)
 * and publishes every message to `queue`; it ends itself once nothing arrived for 500 ms and everything
 * read is acknowledged (so every message published was confirmed by a completed checkpoint). A broker
 * source rather than `fromSequence`: a fast chained sequence source keeps DirectoryStorage checkpoints
 * from completing while it runs, and the kills must land between completed checkpoints. Checkpoints go to `<work dir>/checkpoints` (DirectoryStorage); started again on
 * the same directory, the job resumes from the newest complete checkpoint. Prints `fresh|restoring <id>`,
 * `running`, `checkpoint <id>`, `finished`, as spec/support/fault-process.ts expects.
 */
import { join } from 'node:path'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { DirectoryStorage } from '../../../lib/checkpoint/directory-storage.js'
import { type RabbitMQMessage, RabbitMQSink, RabbitMQSource } from '../../../lib/connectors/rabbitmq/index.js'
import { map } from '../../../lib/index.js'
import { recordReaders } from '../../support/amqp-broker.js'
import { FileLedger, FileLedgerSink } from '../../support/ledger-files.js'
import { jobArguments, reportJob, say } from '../../support/job-process.js'

interface Args {
  readonly mode: 'source' | 'sink'
  readonly url: string
  readonly queue: string
  readonly count: number
  readonly input: string
}

const [argsText, workDir] = jobArguments('spec/connectors/rabbitmq/kill-job.ts', '<args json>', '<work dir>')
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
    new RabbitMQSource({ url: args.url, queue: args.queue, prefetch: 500, guarantee: 'exactly-once' }),
  )
  env
    .fromSource(source, { uid: 'rabbit' })
    .pipe(map((m: RabbitMQMessage) => slow(m.content.toString()), { uid: 'slow' }))
    .sinkTo(new FileLedgerSink(new FileLedger(ledgerDir)), { uid: 'ledger' })
  done = () => readers.at(-1)?.unacknowledged === 0 && FileLedger.readCommitted(ledgerDir).length >= args.count
  summary = () => `skipped ${readers.reduce((n, r) => n + r.duplicates, 0)} redelivered duplicate(s)`
} else {
  const { source, readers } = recordReaders(new RabbitMQSource({ url: args.url, queue: args.input, prefetch: 500 }))
  let last = performance.now()
  env
    .fromSource(source, { uid: 'input' })
    .pipe(
      map(
        (m: RabbitMQMessage) => {
          last = performance.now()
          return slow(m.content.toString())
        },
        { uid: 'slow' },
      ),
    )
    .sinkTo(new RabbitMQSink<string>({ url: args.url, exchange: '', routingKey: args.queue }), { uid: 'rabbit' })
  done = () => performance.now() - last > 500 && readers.at(-1)?.unacknowledged === 0
}

const job = env.executeAsync(`rabbitmq kill job (${args.mode})`)
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

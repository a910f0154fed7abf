/**
 * The job of a queue connector's SIGKILL tests (RabbitMQ, ActiveMQ), run as its own process by a
 * per-connector script that names the connector's source, sink and message text:
 *
 *   node --import tsx spec/connectors/<connector>/kill-job.ts '<args json>' <work dir>
 *
 * `{ mode: 'source', queue, count }`: reads `queue` exactly-once into the file ledger `<work dir>/ledger`;
 * it ends itself (exit 0, 'finished') once `count` records are committed and every message is
 * acknowledged. `{ mode: 'sink', queue, input }`: reads the queue `input` (at-least-once) and sends every
 * message to `queue`; it ends itself once nothing arrived for 500 ms and everything read is acknowledged
 * (so every message sent was confirmed before a completed checkpoint). A broker source rather than
 * `fromSequence`: a fast chained sequence source keeps DirectoryStorage checkpoints from completing while
 * it runs, and the kills must land between completed checkpoints. Checkpoints go to
 * `<work dir>/checkpoints` (DirectoryStorage); started again on the same directory, the job resumes from
 * the newest complete checkpoint. Prints `fresh|restoring <id>`, `running`, `checkpoint <id>`,
 * `finished`, as spec/support/fault-process.ts expects.
 */
import { join } from 'node:path'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { DirectoryStorage } from '../../lib/checkpoint/directory-storage.js'
import type { SourceGuarantee } from '../../lib/connectors/base/checkpoint-acks.js'
import { map } from '../../lib/index.js'
import type { Sink } from '../../lib/runtime/sink.js'
import type { Source, SourceReader, SourceReaderContext } from '../../lib/runtime/source.js'
import { recordReaders } from './amqp-broker.js'
import { jobArguments, reportJob, say } from './job-process.js'
import { FileLedger, FileLedgerSink } from './ledger-files.js'
import { busyWait } from './fault-injection.js'

/** What the arguments of a queue kill job name. */
export interface QueueKillArgs {
  readonly mode: 'source' | 'sink'
  /** The queue read exactly-once (`source`), or written to (`sink`). */
  readonly queue: string
  readonly count: number
  /** The queue a `sink` job reads. */
  readonly input?: string
}

/** A reader whose counters the job watches to know it is done. */
interface CountingReader<M> extends SourceReader<M, unknown> {
  readonly unacknowledged: number
  readonly duplicates: number
}

/** The connector under test, as a queue kill job uses it. */
export interface QueueKillConnector<M> {
  /** The connector's name: the operators' uids and the job's name. */
  readonly name: string
  source(
    queue: string,
    guarantee: SourceGuarantee,
  ): Source<M, unknown> & { createReader(context: SourceReaderContext, restored?: unknown[]): CountingReader<M> }
  sink(queue: string): Sink<string>
  text(message: M): string
}

/**
 * Runs the kill job of `script` (this process's arguments) for `connector`.
 *
 * @example
 * await runQueueKillJob('spec/connectors/rabbitmq/kill-job.ts', {
 *   name: 'rabbit',
 *   source: (queue, guarantee) => new RabbitMQSource({ url: AMQP_URL, queue, prefetch: 500, guarantee }),
 *   sink: (queue) => new RabbitMQSink<string>({ url: AMQP_URL, exchange: '', routingKey: queue }),
 *   text: (m) => m.content.toString(),
 * })
 */
export async function runQueueKillJob<M>(script: string, connector: QueueKillConnector<M>): Promise<void> {
  const [argsText, workDir] = jobArguments(script, '<args json>', '<work dir>')
  const args = JSON.parse(argsText) as QueueKillArgs
  const storage = new DirectoryStorage(join(workDir, 'checkpoints'))
  const restored = await storage.latest()
  say(restored === undefined ? 'fresh' : `restoring ${restored.id}`)

  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 20, storage } })
  let seen = 0
  const slow = (message: M): string => {
    // about 2 s of work for 20,000 records, so that the kills land mid-stream
    if (++seen % 10 === 0) busyWait(1)
    return connector.text(message)
  }
  let done: () => boolean
  let summary = (): string => ''
  if (args.mode === 'source') {
    const ledgerDir = join(workDir, 'ledger')
    const { source, readers } = recordReaders(connector.source(args.queue, 'exactly-once'))
    env
      .fromSource(source, { uid: connector.name })
      .pipe(map(slow, { uid: 'slow' }))
      .sinkTo(new FileLedgerSink(new FileLedger(ledgerDir)), { uid: 'ledger' })
    done = () => readers.at(-1)?.unacknowledged === 0 && FileLedger.readCommitted(ledgerDir).length >= args.count
    summary = () => `skipped ${readers.reduce((n, r) => n + r.duplicates, 0)} redelivered duplicate(s)`
  } else {
    const { source, readers } = recordReaders(connector.source(args.input ?? '', 'at-least-once'))
    let last = performance.now()
    const relay = (message: M): string => {
      last = performance.now()
      return slow(message)
    }
    env
      .fromSource(source, { uid: 'input' })
      .pipe(map(relay, { uid: 'slow' }))
      .sinkTo(connector.sink(args.queue), { uid: connector.name })
    done = () => performance.now() - last > 500 && readers.at(-1)?.unacknowledged === 0
  }

  const job = env.executeAsync(`${connector.name} kill job (${args.mode})`)
  reportJob(job, {
    intervalMs: 20,
    onTick: () => {
      if (done()) void job.cancel()
    },
    onFinished: () => {
      if (summary() !== '') say(summary())
    },
  })
}

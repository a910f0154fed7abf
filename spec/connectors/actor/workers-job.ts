/**
 * An actor source feeding an actor sink, with the source's actor and the sink's target on the
 * coordinating thread, run as its own process on either executor:
 *
 *   node --import tsx spec/connectors/actor/workers-job.ts <single-thread|workers> <work dir>
 *
 * Parallelism 2, ackMode 'checkpointed', a buffer of 16 records per subtask and 32 asks in flight (so
 * the source's actor waits for room). The sender asks 300 messages (records and batches of 3 with
 * event times, each with an id), then resends 20 of them (answered `duplicate`) and one malformed batch
 * (answered `rejected`), and completes the stream. The target acks every record and keeps it with the
 * thread that mapped it. Prints one JSON line: the job's status, the values the target got, the
 * threads that mapped them, and the answers by type.
 */
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import type { ActorRef } from '../../../lib/actors/actor-ref.js'
import { ActorSystem } from '../../../lib/actors/actor-system.js'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { DirectoryStorage } from '../../../lib/checkpoint/directory-storage.js'
import {
  type ActorSinkMessage,
  type ActorSourceMessage,
  type ActorSourceReply,
  actorSink,
  actorSource,
} from '../../../lib/connectors/actor/index.js'
import { map } from '../../../lib/operators/map.js'
import { isCoordinator } from '../../../lib/runtime/workers/worker-thread.js'
import { jobArguments } from '../../support/job-process.js'

const [executor, workDir] = jobArguments('spec/connectors/actor/workers-job.ts', '<executor>', '<work dir>')
const MESSAGES = 300
const system = new ActorSystem({ name: 'app' })
const received: Array<[value: number, thread: number]> = []
const target = system.spawn<ActorSinkMessage<[number, number]>>(
  () => ({
    receive: (m) => {
      if (m.type === 'record') received.push(m.value)
      if (m.type === 'init' || m.type === 'record') m.replyTo.tell({ type: 'ack' })
    },
  }),
  { name: 'target' },
)
const source = actorSource<number>({ system, actorName: 'ingest', ackMode: 'checkpointed', maxBufferedRecords: 16 })
const env = StreamEnvironment.create({
  logLevel: 'silent',
  parallelism: 2,
  executor: executor === 'workers' ? { kind: 'workers', threads: 2 } : { kind: 'single-thread' },
  checkpointing: { intervalMs: 20, storage: new DirectoryStorage(join(workDir, 'checkpoints')) },
})
env
  .fromSource(source, { uid: 'ingest' })
  .pipe(map((n: number): [number, number] => [n, threadId], { uid: 'tag' }))
  .sinkTo(actorSink({ target, maxUnacknowledged: 8 }), { uid: 'target' })
const job = env.executeAsync('actor source and sink')

/** Message i: a record 10i, or (every third) a batch 10i, 10i+1, 10i+2 with event times. */
function message(i: number, replyTo: ActorRef<ActorSourceReply>): ActorSourceMessage<number> {
  const id = `m${i}`
  if (i % 3 !== 0) return { type: 'record', value: 10 * i, timestamp: i, id, replyTo }
  return { type: 'batch', values: [10 * i, 10 * i + 1, 10 * i + 2], timestamps: [i, i, i], id, replyTo }
}

async function send(): Promise<void> {
  // the subtasks run (and the source's actor is spawned) once every reader started
  await job.running
  const answers: Record<string, number> = {}
  const answer = (reply: ActorSourceReply): void => {
    answers[reply.type] = (answers[reply.type] ?? 0) + 1
  }
  let next = 0
  const sender = async (): Promise<void> => {
    while (next < MESSAGES) {
      const i = next++
      answer(await source.ref.ask<ActorSourceReply>((replyTo) => message(i, replyTo), 30_000))
    }
  }
  await Promise.all(Array.from({ length: 32 }, () => sender()))
  for (let i = 0; i < 20; i++) answer(await source.ref.ask<ActorSourceReply>((replyTo) => message(i, replyTo), 30_000))
  answer(
    await source.ref.ask<ActorSourceReply>((replyTo) => ({ type: 'batch', values: 'x' as never, replyTo }), 30_000),
  )
  source.ref.tell({ type: 'complete' })
  const { status } = await job.result
  const values = received.map(([value]) => value).sort((a, b) => a - b)
  const threads = [...new Set(received.map(([, thread]) => thread))].sort()
  process.stdout.write(`${JSON.stringify({ status, values, threads, answers })}\n`)
  await system.terminate()
}

if (isCoordinator())
  send().catch((error: unknown) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`)
    process.exit(1)
  })

// The actor source case (issue 15): a sender tells n records, one per message, with at most WINDOW
// messages waiting for their ack (the backpressure protocol of Akka Streams' actorRefWithBackpressure).
// - engine: a job with ActorSource (ackMode 'received', acked once buffered) into a counting sink,
//   timed from the job's start until the n-th record is counted (then cancelled).
// - baseline: ActorRef.tell to a plain actor of the same system kind that counts each message and acks
//   it, with the same sender and window: the cost of the actor hop and the ack alone.
// Target: engine ≥ 0.8 × the baseline.
import { CountingSink } from '../counting-sink.js'
import type { ActorRef } from '../../lib/actors/actor-ref.js'
import { ActorSystem } from '../../lib/actors/actor-system.js'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { ActorSource, type ActorSourceMessage, type ActorSourceReply } from '../../lib/connectors/actor/index.js'
import { type BenchCase, type RunResult, type Summary, type TargetCheck, formatInt, hotPhase } from '../measure.js'

const TARGET = 0.8
const WINDOW = 64

/** A sender keeping WINDOW messages unacknowledged: its replyTo sends the next on each answer. */
function startSender(target: ActorRef<ActorSourceMessage<number>>, n: number): void {
  let next = 0
  const replyTo: ActorRef<ActorSourceReply> = {
    path: '/bench/sender',
    mailboxSize: 0,
    mailboxCapacity: 1,
    isAlive: true,
    terminated: new Promise(() => {}),
    tell: () => {
      if (next < n) target.tell({ type: 'record', value: next++, replyTo })
      return true
    },
    ask: () => Promise.reject(new Error('not supported')),
    stop: () => Promise.resolve(),
  }
  while (next < Math.min(WINDOW, n)) target.tell({ type: 'record', value: next++, replyTo })
}

async function engine(n: number): Promise<RunResult> {
  const sink = new CountingSink((value: number) => value, n)
  const system = new ActorSystem({ name: 'bench' })
  const source = new ActorSource<number>({ system, mailboxCapacity: WINDOW })
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env.fromSource(source).sinkTo(sink)
  const phase = hotPhase()
  const job = env.executeAsync('bench: actor source')
  while (!source.ref.isAlive) await new Promise((resolve) => setImmediate(resolve))
  startSender(source.ref, n)
  await sink.reached
  const time = phase.end()
  await job.cancel()
  await system.terminate()
  return { records: n, output: sink.output, checksum: sink.checksum, ...time }
}

async function tellWithAcks(n: number): Promise<RunResult> {
  let output = 0
  let checksum = 0
  let finish!: () => void
  const finished = new Promise<void>((resolve) => {
    finish = resolve
  })
  const phase = hotPhase()
  const system = new ActorSystem({ name: 'bench' })
  const counter = system.spawn<ActorSourceMessage<number>>(
    () => ({
      receive: (m) => {
        if (m.type !== 'record') return
        checksum += m.value
        if (++output === n) finish()
        m.replyTo?.tell({ type: 'ack', records: 1 })
      },
    }),
    { name: 'counter', mailboxCapacity: WINDOW },
  )
  startSender(counter, n)
  await finished
  const time = phase.end()
  await system.terminate()
  return { records: n, output, checksum, ...time }
}

function targets(s: ReadonlyMap<string, Summary>): TargetCheck[] {
  const e = [...s.values()].find((x) => x.role === 'engine')!
  const base = [...s.values()].find((x) => x.role === 'baseline')!
  const ratio = e.rate / base.rate
  return [
    {
      label: `actor-source: engine ≥ ${TARGET} × ${base.name}`,
      pass: ratio >= TARGET,
      actual: `${ratio.toFixed(2)}× (${formatInt(e.rate)} vs ${formatInt(base.rate)} records/s)`,
    },
  ]
}

export const actorSourceCase: BenchCase = {
  id: 'actor-source',
  title: `Actor source: a sender tells one record per message with ${WINDOW} unacknowledged; ActorSource vs ActorRef.tell to a counting actor that acks`,
  prepare({ quick }) {
    const n = quick ? 200_000 : 1_000_000
    return {
      contenders: [
        { name: 'ActorSource', role: 'engine', run: () => engine(n) },
        { name: 'ActorRef.tell with acks', role: 'baseline', run: () => tellWithAcks(n) },
      ],
      targets,
      notes: [`${formatInt(n)} records per run, sender in the same process; the engine's job setup is timed.`],
    }
  },
}

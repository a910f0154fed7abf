// Case actors — the dispatcher on its own (was benchmarks/actor-tell.bench.ts); messages/s, no target.
// Three shapes of traffic between two actors; only the message phase is timed (not spawn/terminate):
//   burst      — one actor tells every message to another in one turn (mailbox big enough);
//   credit     — the same through a CreditChannel of 1024 credits into a 1024-message mailbox;
//   ping-pong  — one message bounces between two actors, so every message is its own run-queue entry.
import { ActorSystem, CreditChannel, type ActorRef } from '../../lib/actors/index.js'
import { type BenchCase, type RunResult, hotPhase } from '../measure.js'

async function burst(count: number): Promise<RunResult> {
  const system = new ActorSystem()
  let received = 0
  let done!: () => void
  const finished = new Promise<void>((resolve) => (done = resolve))
  const consumer = system.spawn<number>(() => ({ receive: () => void (++received === count && done()) }), {
    name: 'consumer',
    mailboxCapacity: count,
  })
  const producer = system.spawn<'go'>(
    () => ({
      receive: () => {
        for (let i = 0; i < count; i++) consumer.tell(i)
      },
    }),
    {
      name: 'producer',
    },
  )
  const phase = hotPhase()
  producer.tell('go')
  await finished
  const time = phase.end()
  await system.terminate()
  return { records: count, output: received, checksum: received, ...time }
}

async function credit(count: number): Promise<RunResult> {
  const system = new ActorSystem()
  let received = 0
  let done!: () => void
  const finished = new Promise<void>((resolve) => (done = resolve))
  let channel!: CreditChannel<number>
  const consumer = system.spawn<number>(
    () => ({
      receive() {
        if (++received === count) done()
        channel.grant()
      },
    }),
    { name: 'consumer', mailboxCapacity: 1024 },
  )
  channel = new CreditChannel(consumer, 1024)
  let sent = 0
  const pump = (): void => {
    while (sent < count && channel.trySend(sent)) sent++
  }
  channel.onCredit(pump)
  const phase = hotPhase()
  pump()
  await finished
  const time = phase.end()
  await system.terminate()
  return { records: count, output: received, checksum: received, ...time }
}

async function pingPong(count: number): Promise<RunResult> {
  const system = new ActorSystem()
  let done!: () => void
  const finished = new Promise<void>((resolve) => (done = resolve))
  let pong!: ActorRef<number>
  const ping = system.spawn<number>(() => ({ receive: (n) => void (n >= count ? done() : pong.tell(n + 1)) }), {
    name: 'ping',
  })
  pong = system.spawn<number>(() => ({ receive: (n) => void (n >= count ? done() : ping.tell(n + 1)) }), {
    name: 'pong',
  })
  const phase = hotPhase()
  ping.tell(1)
  await finished
  const time = phase.end()
  await system.terminate()
  return { records: count, output: count, checksum: count, ...time }
}

export const actorsCase: BenchCase = {
  id: 'actors',
  title: 'actors: messages through tell and through a CreditChannel (no target)',
  prepare({ quick }) {
    const n = quick ? 200_000 : 1_000_000
    return {
      unit: 'messages',
      compareChecksums: false,
      contenders: [
        { name: 'tell, burst', role: 'engine', run: () => burst(n) },
        { name: 'CreditChannel (1024 credits)', role: 'engine', run: () => credit(n) },
        { name: 'tell, ping-pong', role: 'engine', run: () => pingPong(n) },
      ],
    }
  },
}

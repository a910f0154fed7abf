// Sanity benchmark of the dispatcher, not a test: `npx tsx spec/actors/tell-throughput.bench.ts`.
// Three shapes of traffic between two actors, 1M messages each, after a 100k warm-up:
//   burst      — one actor tells 1M messages to another in one turn (mailbox big enough);
//   credit     — the same through a CreditChannel of 1024 credits into a 1024-message mailbox;
//   ping-pong  — one message bounces between two actors, so every message is its own run-queue entry.
import { ActorSystem, CreditChannel, type ActorRef } from '../lib/actors/index.js'

const N = 1_000_000

async function burst(count: number): Promise<number> {
  const system = new ActorSystem()
  let received = 0
  let done!: () => void
  const finished = new Promise<void>((resolve) => (done = resolve))
  const consumer = system.spawn<number>(() => ({ receive: () => void (++received === count && done()) }), {
    name: 'consumer',
    mailboxCapacity: count,
  })
  const producer = system.spawn<'go'>(() => ({ receive: () => { for (let i = 0; i < count; i++) consumer.tell(i) } }), {
    name: 'producer',
  })
  const started = performance.now()
  producer.tell('go')
  await finished
  const elapsed = performance.now() - started
  await system.terminate()
  return elapsed
}

async function credit(count: number): Promise<number> {
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
  const started = performance.now()
  pump()
  await finished
  const elapsed = performance.now() - started
  await system.terminate()
  return elapsed
}

async function pingPong(count: number): Promise<number> {
  const system = new ActorSystem()
  let done!: () => void
  const finished = new Promise<void>((resolve) => (done = resolve))
  let pong!: ActorRef<number>
  const ping = system.spawn<number>(() => ({ receive: (n) => void (n >= count ? done() : pong.tell(n + 1)) }), { name: 'ping' })
  pong = system.spawn<number>(() => ({ receive: (n) => void (n >= count ? done() : ping.tell(n + 1)) }), { name: 'pong' })
  const started = performance.now()
  ping.tell(1)
  await finished
  const elapsed = performance.now() - started
  await system.terminate()
  return elapsed
}

for (const [name, run] of [['burst', burst], ['credit', credit], ['ping-pong', pingPong]] as const) {
  await run(100_000)
  const elapsed = await run(N)
  const rate = (N / elapsed) * 1000
  const perMessage = `${((elapsed * 1e6) / N).toFixed(0)} ns/msg`
  console.log(`${name.padEnd(10)} ${N} messages in ${elapsed.toFixed(0)} ms = ${(rate / 1e6).toFixed(2)} M msg/s (${perMessage})`)
}

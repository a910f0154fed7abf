// How batches should cross threads (issue 16): MessagePort with structured clone of the batch, against
// a serializer into a transferable ArrayBuffer (JSON text, UTF-8). One sender thread posts BATCHES
// batches of 512 records to a worker that decodes them and counts; records/s at the receiver's end.
// Run: node --import tsx benchmarks/workers-transport.ts
import { MessageChannel, Worker } from 'node:worker_threads'

const BATCH = 512
const BATCHES = 2_000

const RECEIVER = `
const { parentPort } = require('node:worker_threads')
parentPort.once('message', ({ port, mode, batches }) => {
  const decoder = new TextDecoder()
  let seen = 0
  let check = 0
  port.on('message', (m) => {
    const values = mode === 'buffer' ? JSON.parse(decoder.decode(m)).values : m.batch.values
    check += values.length
    if (++seen === batches) { port.postMessage(check); port.close() }
  })
})`

const kinds: Record<string, (i: number) => unknown> = {
  numbers: (i) => i,
  strings: (i) => `word-${i % 1000}`,
  'small objects': (i) => ({ user: `u${i % 977}`, n: i, at: 1_700_000_000_000 + i }),
}

async function measure(kind: string, mode: 'clone' | 'buffer'): Promise<number> {
  const worker = new Worker(RECEIVER, { eval: true })
  const { port1, port2 } = new MessageChannel()
  worker.postMessage({ port: port2, mode, batches: BATCHES }, [port2])
  const make = kinds[kind]!
  const batches = Array.from({ length: 16 }, (_, b) => Array.from({ length: BATCH }, (_, i) => make(b * BATCH + i)))
  const encoder = new TextEncoder()
  const done = new Promise<number>((resolve) => port1.once('message', resolve))
  const started = performance.now()
  for (let b = 0; b < BATCHES; b++) {
    const values = batches[b % batches.length]!
    if (mode === 'clone') port1.postMessage({ t: 'input', channel: 0, batch: { values } })
    else {
      const bytes = encoder.encode(JSON.stringify({ values }))
      port1.postMessage(bytes, [bytes.buffer])
    }
  }
  const check = await done
  const ms = performance.now() - started
  await worker.terminate()
  port1.close()
  if (check !== BATCH * BATCHES) throw new Error(`received ${check} records`)
  return (BATCH * BATCHES * 1000) / ms
}

for (const kind of Object.keys(kinds))
  for (const mode of ['clone', 'buffer'] as const) {
    const rates: number[] = []
    for (let rep = 0; rep < 3; rep++) rates.push(await measure(kind, mode))
    rates.sort((a, b) => a - b)
    console.log(
      `${kind.padEnd(14)} ${mode === 'clone' ? 'structured clone' : 'JSON → ArrayBuffer (transferred)'}: ${(rates[1]! / 1e6).toFixed(2)} M records/s (median of 3)`,
    )
  }

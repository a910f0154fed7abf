import { createServer, type Socket } from 'node:net'
import { Service } from 'avsc'
import { AVRO_SOURCE_PROTOCOL, type AvroFlumeEvent } from '../../lib/connectors/flume/avro-protocol.js'
import { passValue, replayedTest } from './worker-pass/pass-context.js'

/**
 * A Flume Avro source for faults a real agent cannot be made to show: it speaks Flume's
 * `AvroSourceProtocol` over Avro IPC with Netty framing (avsc's server channel, the framing Flume's
 * NettyServer uses) and answers each `appendBatch` as `answer` decides: OK (the batch is kept), FAILED
 * or UNKNOWN (not kept), `hang` (no answer: the client's timeout), `close` (the connection is dropped
 * mid-call) or a promise of one of them (an answer held back).
 */

/** How the server answers one call. */
export type AvroAnswer = 'OK' | 'FAILED' | 'UNKNOWN' | 'hang' | 'close'

/** A running fault server. */
export interface AvroFlumeServer {
  /** '127.0.0.1:port'. */
  readonly address: string
  /** The batches answered OK, in order. */
  readonly accepted: AvroFlumeEvent[][]
  /** Every `appendBatch` call received, whatever its answer. */
  readonly calls: AvroFlumeEvent[][]
  /** Connections accepted so far. */
  connections: number
  /** Decides the answer to the `n`th call (0-based); default OK. */
  answer: (batch: AvroFlumeEvent[], n: number) => AvroAnswer | Promise<AvroAnswer>
  /** Every accepted event, in order. */
  events(): AvroFlumeEvent[]
  close(): Promise<void>
}

/**
 * Starts a fault server on a free loopback port. In a worker of the worker-executor test pass
 * replaying a test, the server is the coordinator's: the worker gets its port (`passValue`) and
 * starts nothing; what the server received and how it answers are the coordinator's (the worker's
 * view records nothing).
 *
 * @example
 * const server = await startAvroFlumeServer()
 * server.answer = (_batch, n) => (n < 2 ? 'FAILED' : 'OK')
 * try { … flumeSink({ hosts: server.address, … }) … } finally { await server.close() }
 */
export async function startAvroFlumeServer(): Promise<AvroFlumeServer> {
  // the port, in a slot taken at the call (so that concurrent calls keep their order in a replaying worker)
  const slot = new Int32Array(passValue(() => new SharedArrayBuffer(4)))
  if (replayedTest() !== undefined) return coordinatorsServer(Atomics.load(slot, 0))
  const service = Service.forProtocol(AVRO_SOURCE_PROTOCOL)
  const sockets = new Set<Socket>()
  const state: AvroFlumeServer = {
    address: '',
    accepted: [],
    calls: [],
    connections: 0,
    answer: () => 'OK',
    events: () => state.accepted.flat(),
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
  const server = createServer((socket) => {
    state.connections++
    sockets.add(socket)
    socket.setNoDelay(true)
    socket.on('error', () => undefined)
    socket.once('close', () => sockets.delete(socket))
    const avro = service.createServer({ silent: true } as never)
    avro.onMessage('appendBatch', (request: { events: AvroFlumeEvent[] }, reply: (e: unknown, s?: string) => void) => {
      const batch = request.events.map((e) => ({ headers: { ...e.headers }, body: Buffer.from(e.body) }))
      const n = state.calls.push(batch) - 1
      void Promise.resolve(state.answer(batch, n)).then((answer) => {
        if (answer === 'hang') return
        if (answer === 'close') {
          socket.destroy()
          return
        }
        if (answer === 'OK') state.accepted.push(batch)
        reply(null, answer)
      })
    })
    avro.on('error', () => undefined)
    avro.createChannel(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  Atomics.store(slot, 0, port)
  return Object.assign(state, { address: `127.0.0.1:${port}` })
}

/** A replaying worker's view of the coordinator's server on `port`. */
function coordinatorsServer(port: number): AvroFlumeServer {
  return {
    address: `127.0.0.1:${port}`,
    accepted: [],
    calls: [],
    connections: 0,
    answer: () => 'OK',
    events: () => [],
    close: async () => {},
  }
}

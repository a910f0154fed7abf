import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import type { ServerAddress } from '../../lib/connectors/base/server-address.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { ConfigError } from '../../lib/errors.js'
import type { Source } from '../../lib/runtime/source.js'
import { freePortPair } from './free-port-pair.js'
import { waitFor } from './wait-for.js'

/** A server source with a port range, as the TCP and HTTP server sources are. */
interface RangeSource extends Source<string> {
  readonly name: string
  readonly addresses: ReadonlyArray<ServerAddress | undefined>
  listening(subtask: number): Promise<ServerAddress>
}

/**
 * Runs a server source built on a range of two free ports at parallelism 2 and checks that each
 * subtask listens on its own port (on the source and in the job metrics) and reads what `send` sends it
 * (`to <port>`); then that parallelism 3 is refused at build naming `<name>.parallelism`.
 *
 * @example
 * await checkPortRangeJob((port) => new TcpServerSource({ port }), ({ port }) => sendLine(port, `to ${port}`))
 */
export async function checkPortRangeJob(
  create: (port: { from: number; to: number }) => RangeSource,
  send: (address: ServerAddress, text: string) => Promise<void>,
): Promise<void> {
  const from = await freePortPair()
  const source = create({ from, to: from + 1 })
  const received: string[] = []
  const env = StreamEnvironment.create({ logLevel: 'silent', parallelism: 2 })
  env.fromSource(source, { uid: 'range' }).sinkTo(new CallbackSink((text: string) => void received.push(text)))
  const job = env.executeAsync('port range job')
  try {
    const [a, b] = await Promise.all([source.listening(0), source.listening(1)])
    assert.equal([a.port, b.port], [from, from + 1])
    assert.equal(
      source.addresses.map((x) => x?.port),
      [from, from + 1],
    )
    for (const address of [a, b]) await send(address, `to ${address.port}`)
    await waitFor(() => received.length === 2, { timeoutMs: 5_000 })
    assert.equal(received.sort(), [`to ${from}`, `to ${from + 1}`])
    const ports = job
      .metrics()
      .details.filter((d) => d.metrics.connector === source.name)
      .map((d) => [d.subtask, d.metrics.listeningPort])
      .sort()
    assert.equal(ports, [
      [0, from],
      [1, from + 1],
    ])
  } finally {
    await job.cancel()
  }
  const tooMany = StreamEnvironment.create({ logLevel: 'silent' })
  tooMany.fromSource(create({ from, to: from + 1 }), { parallelism: 3 }).print()
  assert.throws(
    () => tooMany.executeAsync('too many subtasks'),
    (e: unknown) => e instanceof ConfigError && e.message.includes(`${source.name}.parallelism`),
  )
}

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Socket } from 'node:net'
import { StreamEnvironment, flatMap, keyBy, map, reduce } from '../../lib/index.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { TestTcpServer } from '../support/tcp-server.js'
import { waitFor } from '../support/wait-for.js'
import { coordinatorOnly, passValue } from '../support/worker-pass/pass-context.js'

test('a socket word count job reads from a server that drops and comes back, and writes to another socket', async () => {
  const sockets: Socket[] = []
  // the servers are the world outside the job: on the coordinator only (a worker replaying the test to
  // build the job gets their ports)
  const servers = await coordinatorOnly(
    async () => ({ source: await TestTcpServer.start((s) => sockets.push(s)), target: await TestTcpServer.start() }),
    undefined,
  )
  const [sourcePort, targetPort] = passValue(() => `${servers!.source.port},${servers!.target.port}`)
    .split(',')
    .map(Number) as [number, number]
  const counts = new Map<string, number>()
  try {
    const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent' })
    const words = env.socketTextStream('127.0.0.1', sourcePort, { retry: { maxRetries: 20, initialDelayMs: 10 } }).pipe(
      flatMap((line: string) => line.split(' ')),
      map((w: string) => [w, 1] as [string, number]),
      keyBy(([w]: [string, number]) => w),
      reduce((a: [string, number], b: [string, number]) => [a[0], a[1] + b[1]] as [string, number]),
    )
    words.sinkTo(new CallbackSink(([w, n]: [string, number]) => counts.set(w, n)))
    words.writeToSocket('127.0.0.1', targetPort, { serializer: ([w, n]: [string, number]) => `${w}=${n}\n` })
    const job = env.executeAsync('socket words')
    await coordinatorOnly(async () => {
      const { source, target } = servers!
      await waitFor(() => sockets.length === 1, { timeoutMs: 5_000 })
      sockets[0]!.write('to be or\nnot to be\n')
      await waitFor(() => counts.get('be') === 2, { timeoutMs: 5_000 })
      source.dropConnections()
      await waitFor(() => sockets.length === 2, { timeoutMs: 5_000, description: 'the source reconnected' })
      sockets[1]!.write('to be\n')
      await waitFor(() => counts.get('to') === 3 && counts.get('be') === 3, { timeoutMs: 5_000 })
      await waitFor(() => target.received.includes('to=3\n'), {
        timeoutMs: 5_000,
        description: 'results arrived at the target server',
      })
    }, undefined)
    await job.cancel()
    assert.equal(Object.fromEntries(counts), { to: 3, be: 3, or: 1, not: 1 })
  } finally {
    await servers?.source.stop()
    await servers?.target.stop()
  }
})

test.run()

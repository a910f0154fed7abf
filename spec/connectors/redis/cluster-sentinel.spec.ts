import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Cluster, Redis } from 'ioredis'
import { StreamEnvironment } from '../../../lib/index.js'
import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import {
  RedisSink,
  RedisStreamSource,
  type RedisConnection,
  type RedisStreamEntry,
} from '../../../lib/connectors/redis/index.js'
import { PrivateRedisCluster, PrivateRedisSentinel } from '../../support/brokers.js'
import { census, entryNumber } from './support.js'

/**
 * The cluster and sentinel configurations against real servers of the test's own: a three-master Redis
 * Cluster (redis-cli --cluster create) and a master watched by one Sentinel, each on free ports.
 */
const Topologies = suite('redis cluster and sentinel')

/** Writes 5,000 SETs and 2,000 XADDs through `connection`, then reads the stream back through a group. */
async function roundTrip(connection: RedisConnection): Promise<{ read: number[] }> {
  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 20 } })
  env
    .fromSequence(0, 4999)
    .sinkTo(new RedisSink<number>({ connection, mapper: { command: 'SET', key: (n) => `key:${n}`, value: (n) => n } }))
  // one hash tag: the stream's entries live in one slot
  env
    .fromSequence(0, 1999)
    .sinkTo(
      new RedisSink<number>({ connection, mapper: { command: 'XADD', key: () => 'events{e}', value: (n) => ({ n }) } }),
    )
  await env.execute()
  const read: number[] = []
  const reading = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 20 } })
  reading
    .fromSource(new RedisStreamSource({ connection, stream: 'events{e}', group: 'g', bounded: true }), {
      uid: 'events',
    })
    .sinkTo(new CallbackSink((e: RedisStreamEntry) => void read.push(entryNumber(e))))
  await reading.execute()
  return { read }
}

Topologies(
  'a three-master cluster: the sink spreads keys over the masters; the stream source reads and acknowledges',
  async () => {
    const cluster = await PrivateRedisCluster.start(3)
    const client = new Cluster(cluster.nodes)
    try {
      const { read } = await roundTrip({ mode: 'cluster', nodes: [cluster.nodes[0]!] })
      assert.equal(census(read, 2000).missing, [])
      assert.is(read.length, 2000)
      assert.is(await client.get('key:4321'), '4321')
      const sizes = await Promise.all(
        cluster.servers.map(async (s) => {
          const node = new Redis({ port: s.port })
          try {
            return await node.dbsize()
          } finally {
            node.disconnect()
          }
        }),
      )
      assert.is(
        sizes.reduce((a, b) => a + b, 0),
        5001,
        'every key, and the stream',
      )
      assert.ok(
        sizes.every((n) => n > 1000),
        `keys on every master: ${sizes.join(', ')}`,
      )
      assert.is(Number(((await client.call('XPENDING', 'events{e}', 'g')) as unknown[])[0]), 0)
    } finally {
      client.disconnect()
      await cluster.dispose()
    }
  },
)

Topologies('a master behind Sentinel: found by name, written to and read from', async () => {
  const sentinel = await PrivateRedisSentinel.start()
  const master = new Redis({ port: sentinel.master.port })
  try {
    const { read } = await roundTrip({
      mode: 'sentinel',
      sentinels: [sentinel.sentinel],
      masterName: sentinel.masterName,
    })
    assert.equal(census(read, 2000).missing, [])
    assert.is(await master.get('key:4999'), '4999')
    assert.is(await master.dbsize(), 5001)
    assert.is(Number(((await master.call('XPENDING', 'events{e}', 'g')) as unknown[])[0]), 0)
  } finally {
    master.disconnect()
    await sentinel.dispose()
  }
})

Topologies.run()

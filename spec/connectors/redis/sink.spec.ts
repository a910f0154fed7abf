import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Redis } from 'ioredis'
import { StreamEnvironment, map } from '../../../lib/index.js'
import { RedisSink, redisSink, type RedisMapper } from '../../../lib/connectors/redis/index.js'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { PrivateRedis, SHARED, freePort } from '../../support/brokers.js'
import { waitFor } from '../../support/wait-for.js'
import { sharedRecord } from '../../support/shared-flags.js'
import { TestKeys, busy, census, range } from './support.js'

/**
 * The Redis sink (Bahir's RedisSink) against the machine's Redis (127.0.0.1:6379) and, for a restart
 * mid-stream, a private redis-server with an fsync'd append-only file on a port of its own.
 */
const RedisSinkSuite = suite('redis sink')
const redis = new Redis(SHARED.redis)
const keys = new TestKeys()
const context = { subtask: 0, parallelism: 1, processingTime: systemProcessingTime }

RedisSinkSuite.after(async () => {
  await keys.cleanup(redis)
  redis.disconnect()
})

async function write<T>(records: T[], mapper: RedisMapper<T>, options: { parallelism?: number } = {}): Promise<void> {
  const env = StreamEnvironment.create({ logLevel: 'silent', parallelism: options.parallelism ?? 1 })
  env.fromCollection(records).sinkTo(new RedisSink({ mapper }))
  await env.execute()
}

RedisSinkSuite('LPUSH, RPUSH, SADD and PFADD write every record', async () => {
  const [l, r, s, h] = [keys.key('lpush'), keys.key('rpush'), keys.key('sadd'), keys.key('pfadd')]
  const words = ['a', 'b', 'c', 'b']
  await write(words, { command: 'LPUSH', key: () => l, value: (w: string) => w })
  await write(words, { command: 'RPUSH', key: () => r, value: (w: string) => w })
  await write(words, { command: 'SADD', key: () => s, value: (w: string) => w })
  await write(words, { command: 'PFADD', key: () => h, value: (w: string) => w })
  assert.equal(await redis.lrange(l, 0, -1), ['b', 'c', 'b', 'a'])
  assert.equal(await redis.lrange(r, 0, -1), words)
  assert.equal((await redis.smembers(s)).sort(), ['a', 'b', 'c'])
  assert.is(await redis.pfcount(h), 3)
})

RedisSinkSuite('SET with and without an expiry', async () => {
  const [plain, expiring] = [keys.key('set-plain'), keys.key('set-expiring')]
  await write(
    [
      { k: plain, v: 'one' },
      { k: expiring, v: 'two' },
    ],
    {
      command: 'SET',
      key: (r) => r.k,
      value: (r) => r.v,
      expirySeconds: (r) => (r.k === expiring ? 100 : undefined),
    },
  )
  assert.is(await redis.get(plain), 'one')
  assert.is(await redis.get(expiring), 'two')
  assert.is(await redis.ttl(plain), -1, 'no expiry')
  const ttl = await redis.ttl(expiring)
  assert.ok(ttl > 90 && ttl <= 100, `ttl ${ttl}`)
})

RedisSinkSuite('ZADD with a score, ZREM, HSET and HINCRBY with the additional key as the field, INCRBY', async () => {
  const [z, h, c, counter] = [keys.key('zset'), keys.key('hash'), keys.key('hcount'), keys.key('counter')]
  const players = [
    { name: 'ann', points: 3 },
    { name: 'bob', points: 5 },
    { name: 'cy', points: 1 },
  ]
  await write(players, { command: 'ZADD', key: () => z, value: (p) => p.name, score: (p) => p.points })
  await write(['cy'], { command: 'ZREM', key: () => z, value: (name: string) => name })
  await write(players, { command: 'HSET', key: () => h, additionalKey: (p) => p.name, value: (p) => String(p.points) })
  await write([...players, ...players], {
    command: 'HINCRBY',
    key: () => c,
    additionalKey: (p) => p.name,
    value: (p) => p.points,
  })
  await write(range(100), { command: 'INCRBY', key: () => counter, value: (n: number) => n }, { parallelism: 2 })
  assert.equal(await redis.zrange(z, '0', '-1'), ['ann', 'bob'], 'ordered by score, cy removed')
  assert.equal([Number(await redis.zscore(z, 'ann')), Number(await redis.zscore(z, 'bob'))], [3, 5])
  assert.equal(await redis.hgetall(h), { ann: '3', bob: '5', cy: '1' })
  assert.equal(await redis.hgetall(c), { ann: '6', bob: '10', cy: '2' })
  assert.is(await redis.get(counter), String((99 * 100) / 2))
})

RedisSinkSuite(
  'PUBLISH reaches a subscriber; XADD appends field maps or one value, trimmed to streamMaxLength',
  async () => {
    const channel = keys.key('channel')
    const subscriber = new Redis(SHARED.redis)
    const heard: string[] = []
    try {
      await subscriber.subscribe(channel)
      subscriber.on('message', (_channel: string, message: string) => heard.push(message))
      await write(['x', 'y'], { command: 'PUBLISH', key: () => channel, value: (m: string) => m })
      await waitFor(() => heard.length === 2, { timeoutMs: 5000 })
      assert.equal(heard, ['x', 'y'])
    } finally {
      subscriber.disconnect()
    }
    const [events, values, trimmed] = [keys.key('xadd-fields'), keys.key('xadd-value'), keys.key('xadd-trimmed')]
    await write([{ id: 1, kind: 'click' }], {
      command: 'XADD',
      key: () => events,
      value: (e) => ({ id: e.id, kind: e.kind }),
    })
    await write(['hello'], { command: 'XADD', key: () => values, value: (v: string) => v, additionalKey: () => 'body' })
    const env = StreamEnvironment.create({ logLevel: 'silent' })
    env.fromCollection(range(5000)).sinkTo(
      new RedisSink({
        mapper: { command: 'XADD', key: () => trimmed, value: (n: number) => n },
        streamMaxLength: 100,
      }),
    )
    await env.execute()
    const [[, fields]] = (await redis.xrange(events, '-', '+')) as [string, string[]][]
    assert.equal(fields, ['id', '1', 'kind', 'click'])
    assert.equal((await redis.xrange(values, '-', '+'))[0]![1], ['body', 'hello'])
    const length = await redis.xlen(trimmed)
    assert.ok(length >= 100 && length < 1000, `MAXLEN ~ 100 trimmed to ${length}`)
  },
)

RedisSinkSuite('commands are pipelined, and a barrier waits for every answer', async () => {
  const key = keys.key('pipelined')
  const sink = new RedisSink<number>({
    mapper: { command: 'RPUSH', key: () => key, value: (n) => n },
    maxPipelineCommands: 100,
    lingerMs: 60_000,
  })
  const writer = sink.createWriter(context)
  try {
    for (let n = 0; n < 250; n++) writer.write(n)
    assert.is(writer.pipelines, 2, 'two full pipelines went out; 50 commands wait (linger is long)')
    assert.equal(await writer.snapshotState(), [])
    assert.is(writer.pipelines, 3, 'the barrier sent the rest')
    assert.is(writer.commands, 250, 'and every command was answered before snapshotState resolved')
    assert.is(await redis.llen(key), 250)
  } finally {
    await writer.close()
  }
})

RedisSinkSuite('ready() holds the job back while maxPipelinesInFlight pipelines wait for answers', async () => {
  const key = keys.key('ready')
  const writer = new RedisSink<number>({
    mapper: { command: 'SADD', key: () => key, value: (n) => n },
    maxPipelineCommands: 10,
    maxPipelinesInFlight: 2,
  }).createWriter(context)
  try {
    await writer.link.ready()
    for (let n = 0; n < 10; n++) writer.write(n)
    assert.is(writer.ready(), undefined, 'one pipeline in flight')
    for (let n = 10; n < 20; n++) writer.write(n)
    const held = writer.ready()
    assert.instance(held, Promise, 'two in flight: wait')
    await held
    assert.is(writer.ready(), undefined)
    await writer.flush()
    assert.is(await redis.scard(key), 20)
  } finally {
    await writer.close()
  }
})

RedisSinkSuite('validates the mapper and options when the sink is built, naming the option', () => {
  const is = (option: string) => (e: unknown) => e instanceof ConfigError && e.option === option
  const key = () => 'k'
  const value = () => 'v'
  assert.throws(() => redisSink({ mapper: { command: 'GETDEL' as never, key, value } }), is('redisSink.mapper.command'))
  assert.throws(() => redisSink({ mapper: { command: 'ZADD', key, value } }), is('redisSink.mapper.score'))
  assert.throws(() => redisSink({ mapper: { command: 'HSET', key, value } }), is('redisSink.mapper.additionalKey'))
  assert.throws(
    () => redisSink({ mapper: { command: 'LPUSH', key, value, expirySeconds: () => 1 } }),
    is('redisSink.mapper.expirySeconds'),
  )
  assert.throws(() => redisSink({ mapper: { command: 'SET', key: 'k' as never, value } }), is('redisSink.mapper.key'))
  assert.throws(
    () => redisSink({ mapper: { command: 'SET', key, value }, maxPipelineCommands: 0 }),
    is('redisSink.maxPipelineCommands'),
  )
  assert.throws(
    () => redisSink({ mapper: { command: 'SET', key, value }, retry: { maxRetries: -1 } }),
    is('redisSink.retry.maxRetries'),
  )
  assert.throws(
    () => redisSink({ mapper: { command: 'SET', key, value }, connection: { mode: 'cluster', nodes: [] } }),
    is('redisSink.connection.nodes'),
  )
  assert.throws(
    () =>
      redisSink({
        mapper: { command: 'SET', key, value },
        connection: { mode: 'cluster', nodes: [{ host: 'a', port: 70_000 }] },
      }),
    is('redisSink.connection.nodes[0].port'),
  )
  assert.throws(
    () =>
      redisSink({
        mapper: { command: 'SET', key, value },
        connection: { mode: 'sentinel', sentinels: [{ host: 'a', port: 26379 }], masterName: '' },
      }),
    is('redisSink.connection.masterName'),
  )
  assert.throws(
    () => redisSink({ mapper: { command: 'SET', key, value }, connection: { mode: 'ring' } as never }),
    is('redisSink.connection.mode'),
  )
  assert.throws(
    () => redisSink({ mapper: { command: 'SET', key, value }, connection: 'http://x' }),
    is('redisSink.connection'),
  )
  // well-formed cluster and sentinel configurations are accepted (they are ioredis options)
  redisSink({
    mapper: { command: 'SET', key, value },
    connection: { mode: 'cluster', nodes: [{ host: '127.0.0.1', port: 7000 }], options: { scaleReads: 'slave' } },
  })
  redisSink({
    mapper: { command: 'SET', key, value },
    connection: { mode: 'sentinel', sentinels: [{ host: '127.0.0.1', port: 26379 }], masterName: 'mymaster', db: 1 },
  })
})

RedisSinkSuite('a command Redis rejects fails the job with ERR_REDIS_COMMAND naming it', async () => {
  const key = keys.key('wrongtype')
  await redis.set(key, 'a string')
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env
    .fromCollection([1, 2, 3])
    .sinkTo(new RedisSink({ mapper: { command: 'RPUSH', key: () => key, value: (n: number) => n } }))
  const error = await env.execute().then(
    () => undefined,
    (e: unknown) => e,
  )
  const cause = rootConnectorError(error)
  assert.ok(cause, `a ConnectorError: ${String(error)}`)
  assert.is(cause!.code, 'ERR_REDIS_COMMAND')
  assert.match(cause!.message, new RegExp(`RPUSH ${key} was rejected: WRONGTYPE`))
})

RedisSinkSuite('an unreachable Redis fails the job with ERR_CONNECT after the configured retries', async () => {
  const port = await freePort()
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env.fromCollection([1]).sinkTo(
    new RedisSink({
      connection: { port },
      mapper: { command: 'SET', key: () => 'k', value: (n: number) => n },
      retry: { maxRetries: 2, initialDelayMs: 10 },
    }),
  )
  const error = await env.execute().then(
    () => undefined,
    (e: unknown) => e,
  )
  const cause = rootConnectorError(error)
  assert.is(cause?.code, 'ERR_CONNECT')
  assert.match(
    cause!.message,
    new RegExp(`redisSink 127\\.0\\.0\\.1:${port}: no connection after 3 attempts \\(maxRetries 2\\): .*ECONNREFUSED`),
  )
})

RedisSinkSuite('at-least-once through an injected failure and a restore: all 20,000 members arrive', async () => {
  const key = keys.key('restore')
  const fault = sharedRecord({ failed: false })
  const env = StreamEnvironment.create({
    logLevel: 'silent',
    checkpointing: { intervalMs: 10 },
    restartStrategy: { kind: 'fixed-delay', attempts: 2, delayMs: 5 },
  })
  env
    .fromSequence(0, 19_999, { uid: 'numbers' })
    .pipe(
      map(
        (n: number) => {
          if (n % 200 === 0) busy(1)
          if (!fault.failed && n === 12_345) {
            fault.failed = true
            throw new Error('injected')
          }
          return n
        },
        { uid: 'faulty' },
      ),
    )
    .sinkTo(new RedisSink({ mapper: { command: 'SADD', key: () => key, value: (n: number) => n } }), { uid: 'redis' })
  const result = await env.execute()
  assert.is(result.metrics.restarts, 1)
  const members = (await redis.smembers(key)).map(Number)
  assert.equal(census(members, 20_000).missing, [])
})

RedisSinkSuite('reconnects after a Redis restart mid-stream and loses nothing', async () => {
  const broker = await PrivateRedis.start()
  const check = new Redis({ port: broker.port, retryStrategy: () => 20, maxRetriesPerRequest: null })
  check.on('error', () => {})
  try {
    const count = sharedRecord({ written: 0 })
    const sink = new RedisSink<number>({
      connection: { port: broker.port },
      mapper: { command: 'SADD', key: () => 'members', value: (n) => n },
      retry: { maxRetries: 50, initialDelayMs: 20, maxDelayMs: 200 },
    })
    const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 20 } })
    env
      .fromAsyncIterable(async function* () {
        for (let n = 0; n < 20_000; n++) {
          if (n % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 1))
          count.written = n
          yield n
        }
      })
      .sinkTo(sink)
    const job = env.executeAsync()
    await waitFor(() => count.written >= 5000, { timeoutMs: 15_000, description: '5,000 written' })
    await broker.restart('SIGKILL')
    const result = await job.result
    assert.is(result.status, 'finished')
    const members = (await check.smembers('members')).map(Number)
    assert.equal(census(members, 20_000).missing, [], 'nothing lost across the restart')
    assert.is(broker.starts, 2)
    assert.is(result.metrics.restarts, 0, 'the job did not restart: the writer itself reconnected')
    const connections = result.metrics.connectors.find((c) => c.connector === sink.name)?.gauges.connections
    assert.ok(connections !== undefined && connections >= 2, `it reconnected (${connections} connections)`)
  } finally {
    check.disconnect()
    await broker.dispose()
  }
})

function rootConnectorError(error: unknown): ConnectorError | undefined {
  for (let e = error; e !== undefined && e !== null; e = (e as { cause?: unknown }).cause)
    if (e instanceof ConnectorError) return e
  return undefined
}

RedisSinkSuite.run()

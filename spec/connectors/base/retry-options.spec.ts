import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { activemqSink, activemqSource } from '../../../lib/connectors/activemq/index.js'
import {
  type ConnectionRetryOptions,
  connectionRetry,
  type RetrySettings,
  retrySchedule,
} from '../../../lib/connectors/base/retry-options.js'
import { resolveS3Options } from '../../../lib/connectors/bucketing-file-sink/s3/s3-options.js'
import { cassandraSink } from '../../../lib/connectors/cassandra/index.js'
import { elasticsearchSink } from '../../../lib/connectors/elasticsearch/index.js'
import { flumeSinkSettings } from '../../../lib/connectors/flume/options.js'
import { webHdfsSettings } from '../../../lib/connectors/hdfs/options.js'
import { kafkaSource } from '../../../lib/connectors/kafka/index.js'
import { kinesisSink, kinesisSource } from '../../../lib/connectors/kinesis/index.js'
import { mqttSink, mqttSource } from '../../../lib/connectors/mqtt/index.js'
import { nifiSink, nifiSource } from '../../../lib/connectors/nifi/index.js'
import { rabbitmqSink, rabbitmqSource } from '../../../lib/connectors/rabbitmq/index.js'
import { redisSink, redisStreamSource } from '../../../lib/connectors/redis/index.js'
import { socketSink, socketTextStream } from '../../../lib/connectors/socket/index.js'
import { tcpServerSource } from '../../../lib/connectors/tcp-server/index.js'
import { twitterSource } from '../../../lib/connectors/twitter/index.js'
import { createLogger } from '../../../lib/logging.js'
import { configError } from '../../support/config-error.js'

interface Warning {
  msg: string
  options: string[]
  replacements: string[]
}

/** The warnings a logger given to `connectionRetry` received. */
function capture() {
  const lines: Warning[] = []
  return { lines, log: createLogger({ level: 'warn', write: (line) => lines.push(JSON.parse(line)) }) }
}

/**
 * The warning lines the default logger writes to standard error while `build` runs (a connector
 * factory logs there: it is built before any job exists to hand it a logger).
 */
function warningsOf<R>(build: () => R): { result: R; warnings: Warning[] } {
  const warnings: Warning[] = []
  const write = process.stderr.write
  const level = process.env.SLUICE_LOG_LEVEL
  process.env.SLUICE_LOG_LEVEL = 'warn'
  process.stderr.write = ((chunk: string | Uint8Array) => {
    const line = JSON.parse(String(chunk)) as Warning & { level: string }
    if (line.level === 'warn') warnings.push(line)
    return true
  }) as typeof process.stderr.write
  try {
    return { result: build(), warnings }
  } finally {
    process.stderr.write = write
    if (level === undefined) delete process.env.SLUICE_LOG_LEVEL
    else process.env.SLUICE_LOG_LEVEL = level
  }
}

const Shape = suite('one retry shape')

Shape('a retry option is validated with its defaults, a connector may set its own', () => {
  assert.equal(retrySchedule('x.retry', undefined), {
    maxRetries: 5,
    initialDelayMs: 200,
    maxDelayMs: 10_000,
    multiplier: 2,
    jitter: 0,
  })
  assert.equal(retrySchedule('x.retry', { jitter: 0.5 }, { maxRetries: 10, initialDelayMs: 5_000 }), {
    maxRetries: 10,
    initialDelayMs: 5_000,
    maxDelayMs: 10_000,
    multiplier: 2,
    jitter: 0.5,
  })
  assert.is(
    retrySchedule('x.retry', { initialDelayMs: 20_000 }).maxDelayMs,
    20_000,
    'the ceiling is never below the first delay',
  )
})

Shape('an unknown key inside retry fails naming its full path and the closest key', () => {
  const error = configError(() => retrySchedule('rabbitmqSource.retry', { maxDelay: 5 } as never))
  assert.is(error.option, 'rabbitmqSource.retry.maxDelay')
  assert.match(error.message, 'did you mean maxDelayMs?')
  assert.match(
    configError(() => retrySchedule('k.retry', { maxRetry: 3 } as never)).message,
    'did you mean maxRetries?',
  )
  assert.is(configError(() => retrySchedule('a.retry', { maxRetries: -1 })).option, 'a.retry.maxRetries')
  assert.is(configError(() => retrySchedule('a.retry', { maxRetries: 1.5 })).option, 'a.retry.maxRetries')
  assert.is(configError(() => retrySchedule('a.retry', { jitter: 2 })).option, 'a.retry.jitter')
  assert.is(configError(() => retrySchedule('a.retry', { multiplier: 0.5 })).option, 'a.retry.multiplier')
  assert.is(
    configError(() => retrySchedule('a.retry', { initialDelayMs: 9, maxDelayMs: 5 })).option,
    'a.retry.maxDelayMs',
  )
  assert.is(configError(() => retrySchedule('a.retry', 3 as never)).option, 'a.retry')
})

Shape('flat names are read as their keys in retry, with one warning naming every old and new path', () => {
  const { lines, log } = capture()
  const flat = connectionRetry('toySource', { maxRetries: 3, retryDelayMs: 7, maxDelayMs: 70 }, {}, log)
  const nested = connectionRetry('toySource', { retry: { maxRetries: 3, initialDelayMs: 7, maxDelayMs: 70 } }, {}, log)
  assert.equal(flat, nested)
  assert.equal(lines, [
    {
      ...lines[0]!,
      msg: 'deprecated options toySource.maxRetries, toySource.maxDelayMs, toySource.retryDelayMs; use toySource.retry.maxRetries, toySource.retry.maxDelayMs, toySource.retry.initialDelayMs',
      options: ['toySource.maxRetries', 'toySource.maxDelayMs', 'toySource.retryDelayMs'],
      replacements: ['toySource.retry.maxRetries', 'toySource.retry.maxDelayMs', 'toySource.retry.initialDelayMs'],
    },
  ])
})

Shape('a bad flat value fails naming the path as written; two names of one key fail', () => {
  const { log } = capture()
  assert.is(configError(() => connectionRetry('toy', { retryDelayMs: -1 }, {}, log)).option, 'toy.retryDelayMs')
  assert.is(configError(() => connectionRetry('toy', { maxRetries: 0.5 }, {}, log)).option, 'toy.maxRetries')
  const twice = configError(() => connectionRetry('toy', { initialDelayMs: 1, retryDelayMs: 2 }, {}, log))
  assert.is(twice.option, 'toy.retryDelayMs')
  assert.match(twice.message, 'toy.initialDelayMs')
})

Shape('connectTimeoutMs stays beside retry and is checked', () => {
  assert.is(connectionRetry('toy', { connectTimeoutMs: 250 }).connectTimeoutMs, 250)
  assert.is(configError(() => connectionRetry('toy', { connectTimeoutMs: 0 })).option, 'toy.connectTimeoutMs')
})

/** Every connector that connects again after a failure, with where its settings keep the retry. */
const emitter = () => []
const CONNECTORS: Array<[string, (options: ConnectionRetryOptions) => RetrySettings]> = [
  ['rabbitmqSource', (o) => rabbitmqSource({ queue: 'q', ...o }).settings.retry],
  ['rabbitmqSink', (o) => rabbitmqSink({ exchange: '', routingKey: 'q', ...o }).settings.retry],
  ['activemqSource', (o) => activemqSource({ destination: '/queue/q', ...o }).settings.retry],
  ['activemqSink', (o) => activemqSink({ destination: '/queue/q', ...o }).settings.retry],
  ['mqttSource', (o) => mqttSource({ url: 'mqtt://127.0.0.1:1883', topics: 't', clientId: 'c', ...o }).settings.retry],
  ['mqttSink', (o) => mqttSink({ url: 'mqtt://127.0.0.1:1883', topic: 't', ...o }).settings.retry],
  ['redisStreamSource', (o) => redisStreamSource({ stream: 's', group: 'g', ...o }).settings.retry],
  [
    'redisSink',
    (o) => redisSink({ mapper: { command: 'SET', key: () => 'k', value: () => 'v' }, ...o }).settings.retry,
  ],
  ['socketTextStream', (o) => socketTextStream('localhost', 9999, o).retry],
  ['socketSink', (o) => socketSink('localhost', 9999, o).retry],
  ['webHdfs', (o) => webHdfsSettings({ url: 'http://nn:9870', ...o }).retry],
  ['nifiSource', (o) => nifiSource({ urls: 'http://h/nifi', portName: 'a', ...o }).settings.retry],
  [
    'nifiSink',
    (o) => nifiSink({ urls: 'http://h/nifi', portName: 'a', flowFile: () => ({}) as never, ...o }).settings.retry,
  ],
  ['twitterSource', (o) => twitterSource({ bearerToken: 't', ...o }).settings.retry],
  ['elasticsearchSink', (o) => elasticsearchSink({ emitter, ...o }).settings.connection.retry],
  ['cassandraSink', (o) => cassandraSink({ table: { keyspace: 'k', table: 't' }, ...o }).settings.retry],
]

const retry = { maxRetries: 3, initialDelayMs: 7, maxDelayMs: 70, multiplier: 3, jitter: 0.25 }

Shape('every connecting connector reads retry nested, in the one shape', () => {
  for (const [owner, build] of CONNECTORS) {
    const { result, warnings } = warningsOf(() => build({ retry }))
    assert.equal({ ...result, connectTimeoutMs: 0 }, { ...retry, connectTimeoutMs: 0 }, owner)
    assert.equal(warnings, [], `${owner}: no warning`)
  }
})

Shape('every connecting connector still reads the flat names, warning once per build naming both paths', () => {
  for (const [owner, build] of CONNECTORS) {
    const { result, warnings } = warningsOf(() => build({ ...retry, retryDelayMs: undefined }))
    assert.equal({ ...result, connectTimeoutMs: 0 }, { ...retry, connectTimeoutMs: 0 }, owner)
    assert.is(warnings.length, 1, `${owner}: one warning`)
    assert.ok(warnings[0]!.options.includes(`${owner}.maxRetries`), owner)
    assert.ok(warnings[0]!.replacements.includes(`${owner}.retry.maxRetries`), owner)
    assert.is(warningsOf(() => build({ maxRetries: 1 })).warnings.length, 1, `${owner}: again for the next build`)
  }
})

Shape('every connecting connector refuses an unknown key in retry, and flat beside nested', () => {
  for (const [owner, build] of CONNECTORS) {
    const unknown = configError(() => build({ retry: { maxDelay: 5 } as never }))
    assert.is(unknown.option, `${owner}.retry.maxDelay`)
    assert.match(unknown.message, 'did you mean maxDelayMs?')
    const both = configError(() => build({ maxRetries: 1, retry: { initialDelayMs: 5 } }))
    assert.is(both.option, `${owner}.maxRetries`)
    assert.match(both.message, `${owner}.retry`)
  }
})

Shape('every other retry option has the same shape and refuses unknown keys by their full path', () => {
  const nested: Array<[string, (retry: never) => unknown]> = [
    ['kafkaSource.retry', (r) => kafkaSource({ brokers: ['b:9092'], topics: 't', groupId: 'g', retry: r })],
    ['kinesisSource.retry', (r) => kinesisSource({ stream: 's', region: 'r', retry: r })],
    [
      'kinesisSink.retry',
      (r) => kinesisSink({ stream: 's', region: 'r', serializer: () => ({ data: '', partitionKey: 'k' }), retry: r }),
    ],
    ['flumeSink.retry', (r) => flumeSinkSettings({ hosts: '127.0.0.1:41414', mapper: () => ({ body: '' }), retry: r })],
    ['s3Writer.retry', (r) => resolveS3Options({ bucket: 'bucket', region: 'r', retry: r })],
    ['tcpServerSource.callbackRetry', (r) => tcpServerSource({ callbackUrl: 'http://h/cb', callbackRetry: r })],
    ['elasticsearchSink.bulkRetry', (r) => elasticsearchSink({ emitter, bulkRetry: r })],
    ['cassandraSink.writeRetry', (r) => cassandraSink({ table: { keyspace: 'k', table: 't' }, writeRetry: r })],
  ]
  for (const [path, build] of nested) {
    const error = configError(() => build({ maxDelay: 5 } as never))
    assert.is(error.option, `${path}.maxDelay`)
    assert.match(error.message, 'did you mean maxDelayMs?')
  }
})

Shape('the write retries of the Cassandra sink before writeRetry are refused, saying where they went', () => {
  const error = configError(() =>
    cassandraSink({ table: { keyspace: 'k', table: 't' }, retry: { maxAttempts: 3 } as never }),
  )
  assert.is(error.option, 'cassandraSink.retry.maxAttempts')
  assert.match(error.message, 'cassandraSink.writeRetry')
})

Shape.run()

// Run by scripts/check-package.sh with plain `node`, in an empty project where only the packed tarball
// (and its own dependencies) is installed: a small job runs, every entry of the exports map imports, and
// a connector without its client fails only when it is built, with a ConfigError naming the package.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { ConfigError, StreamEnvironment, keyBy, map, reduce } from 'sluice'

const env = StreamEnvironment.create({ parallelism: 2 })
const counts = await env
  .fromCollection(['to', 'be', 'or', 'not', 'to', 'be'])
  .pipe(
    map((word) => ({ word, n: 1 })),
    keyBy((c) => c.word),
    reduce((a, b) => ({ word: a.word, n: a.n + b.n })),
  )
  .executeAndCollect()
const totals = Object.fromEntries(counts.map((c) => [c.word, c.n]).sort(([, a], [, b]) => a - b))
assert.deepEqual(totals, { to: 2, be: 2, or: 1, not: 1 })

// every entry of the exports map imports, none needing a connector client
const { exports } = JSON.parse(readFileSync('node_modules/sluice/package.json', 'utf8'))
for (const entry of Object.keys(exports)) await import(entry === '.' ? 'sluice' : `sluice/${entry.slice(2)}`)

const connectors = [
  ['sluice/connectors/kafka', 'kafkajs', (m) => m.kafkaSource({ brokers: ['127.0.0.1:9092'], topics: 'orders' })],
  [
    'sluice/connectors/kinesis',
    '@aws-sdk/client-kinesis',
    (m) => m.kinesisSink({ stream: 'clicks', region: 'eu-west-1', serializer: (s) => ({ data: s, partitionKey: s }) }),
  ],
  [
    'sluice/connectors/elasticsearch',
    '@elastic/elasticsearch',
    (m) => m.elasticsearchSink({ emitter: (s) => ({ type: 'index', index: 'words', document: { s } }) }),
  ],
  ['sluice/connectors/rabbitmq', 'amqplib', (m) => m.rabbitmqSource({ url: 'amqp://127.0.0.1:5672', queue: 'orders' })],
  ['sluice/connectors/mqtt', 'mqtt', (m) => m.mqttSink({ url: 'mqtt://127.0.0.1:1883', topic: 'alerts' })],
  [
    'sluice/connectors/redis',
    'ioredis',
    (m) => m.redisSink({ mapper: { command: 'SADD', key: () => 'seen', value: (v) => v } }),
  ],
  ['sluice/connectors/activemq', '@stomp/stompjs', (m) => m.activemqSink({ destination: '/queue/orders' })],
  [
    'sluice/connectors/bucketing-file-sink/s3',
    '@aws-sdk/client-s3',
    (m) => m.s3Writer({ bucket: 'archive', region: 'eu-west-1' }),
  ],
  [
    'sluice/connectors/bucketing-file-sink/avro',
    'avsc',
    (m) => m.avroContainer({ type: 'record', name: 'R', fields: [{ name: 'id', type: 'long' }] }),
  ],
  [
    'sluice/connectors/bucketing-file-sink/parquet',
    'hyparquet-writer',
    (m) => m.parquet([{ name: 'id', type: 'INT64' }]),
  ],
  ['sluice/connectors/flume', 'avsc', (m) => m.flumeSink({ hosts: '127.0.0.1:41414', mapper: (s) => ({ body: s }) })],
  ['sluice/connectors/twitter', 'twitter-api-v2', (m) => m.twitterSource({ bearerToken: 'token', stream: 'sample' })],
]
for (const [entry, client, build] of connectors) {
  const connector = await import(entry)
  const installed = await import(client).then(
    () => true,
    () => false,
  )
  if (installed) {
    build(connector)
    continue
  }
  assert.throws(
    () => build(connector),
    (error) => error instanceof ConfigError && error.message.includes(`npm install ${client}`),
    `${entry} without ${client}`,
  )
}
console.log('job.mjs: the job ran; each connector without its client names the package to install')

import { inspect } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { dailyIndex, elasticsearchSink, ElasticsearchSink } from '../../../lib/connectors/elasticsearch/index.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { closedPort, configErrorMessage } from '../../support/connector-checks.js'
import { type ElasticsearchServer, startElasticsearchServer } from '../../support/elasticsearch-server.js'
import { selfSignedCertificate } from '../../support/self-signed-certificate.js'

/**
 * Options (bad values named by path, misspelt keys), the connection (auth schemes on the wire, an
 * unreachable cluster → ERR_CONNECT after the retries, no credential in the error), TLS (a private CA,
 * a client certificate, an untrusted certificate refused) and the guarantee.
 */
const Connection = suite('elasticsearch sink: options and connection')
const emitter = (s: string) => ({ type: 'index' as const, index: 'words', id: s, document: { s } })
const context = { subtask: 0, parallelism: 1, processingTime: systemProcessingTime }

Connection('a bad option fails when the sink is built, naming its path; a misspelt key gets a suggestion', () => {
  assert.match(
    configErrorMessage(() => elasticsearchSink({ emitter, maxActions: 0 })),
    'elasticsearchSink.maxActions',
  )
  assert.match(
    configErrorMessage(() => elasticsearchSink({ emitter, bulkRetry: { maxDelayMs: -1 } })),
    'elasticsearchSink.bulkRetry.maxDelayMs',
  )
  assert.match(
    configErrorMessage(() => elasticsearchSink({ emitter, bulkRetry: { maxRetry: 1 } as never })),
    'did you mean maxRetries?',
  )
  assert.match(
    configErrorMessage(() => elasticsearchSink({ emitter, maxAction: 5 } as never)),
    'did you mean maxActions?',
  )
  assert.match(
    configErrorMessage(() => elasticsearchSink({ emitter, nodes: ['es:9200'] })),
    'elasticsearchSink.nodes[0]',
  )
  assert.match(
    configErrorMessage(() => elasticsearchSink({ emitter, onConflict: 'retry' as never })),
    'elasticsearchSink.onConflict',
  )
  assert.match(
    configErrorMessage(() => elasticsearchSink({ emitter, tls: { rejectUnauthorised: false } as never })),
    'did you mean rejectUnauthorized?',
  )
  assert.match(
    configErrorMessage(() => elasticsearchSink({} as never)),
    'elasticsearchSink.emitter',
  )
  const auth = configErrorMessage(() =>
    elasticsearchSink({ emitter, auth: { username: 'u', pass: 'hunter2' } as never }),
  )
  assert.match(auth, 'elasticsearchSink.auth')
  assert.not.match(auth, 'hunter2')
})

Connection('defaults: 1,000 actions, 5 MiB, one request in flight, at-least-once, sniffing off', () => {
  const sink = elasticsearchSink({ emitter })
  assert.is(sink.settings.maxActions, 1000)
  assert.is(sink.settings.maxBytes, 5 * 1024 * 1024)
  assert.is(sink.settings.maxInFlightRequests, 1)
  assert.is(sink.settings.maxBufferedRecords, 2000)
  assert.is(sink.settings.connection.sniffing, false)
  assert.is(sink.guarantee, 'at-least-once')
  assert.is(elasticsearchSink({ emitter, guarantee: 'none' }).guarantee, 'at-most-once')
})

Connection('dailyIndex names the index of a UTC day', () => {
  assert.is(dailyIndex('logs-', Date.UTC(2026, 11, 3, 23, 59, 59)), 'logs-2026.12.03')
  assert.is(dailyIndex('logs-', Date.UTC(2027, 0, 1)), 'logs-2027.01.01')
})

for (const [scheme, auth, header] of [
  ['basic', { username: 'elastic', password: 's3cret' }, `Basic ${Buffer.from('elastic:s3cret').toString('base64')}`],
  ['API key', { apiKey: 'a2V5OnNlY3JldA==' }, 'ApiKey a2V5OnNlY3JldA=='],
  ['bearer', { bearer: 'tok3n' }, 'Bearer tok3n'],
] as const) {
  Connection(`${scheme} auth reaches the server as its Authorization header`, async () => {
    const es: ElasticsearchServer = await startElasticsearchServer({ authorization: header })
    try {
      const writer = new ElasticsearchSink<string>({ nodes: es.url, auth, emitter }).createWriter(context)
      writer.write('a', undefined)
      await writer.flush()
      assert.is(es.documents('words').size, 1)
      assert.is(es.received[0]?.headers.authorization, header)
      await writer.close()
    } finally {
      await es.stop()
    }
  })
}

Connection('a wrong credential is refused (401) and the error shows none', async () => {
  const es = await startElasticsearchServer({ authorization: 'Basic other' })
  try {
    const writer = new ElasticsearchSink<string>({
      nodes: es.url,
      auth: { username: 'elastic', password: 'hunter2' },
      emitter,
      retry: { maxRetries: 1, initialDelayMs: 1 },
    }).createWriter(context)
    writer.write('a', undefined)
    const error = (await writer.flush().catch((e) => e)) as Error & { code?: string }
    assert.is(error.code, 'ERR_CONNECT')
    assert.match(error.message, /401|security_exception/)
    assert.not.match(inspect(error, { depth: 10 }), 'hunter2')
    assert.not.match(inspect(error, { depth: 10 }), Buffer.from('elastic:hunter2').toString('base64'))
    await writer.close()
  } finally {
    await es.stop()
  }
})

Connection('an unreachable cluster fails with ERR_CONNECT after the retries, credentials redacted', async () => {
  const port = await closedPort()
  const sink = new ElasticsearchSink<string>({
    nodes: `http://elastic:hunter2@127.0.0.1:${port}`,
    emitter,
    retry: { maxRetries: 2, initialDelayMs: 1, maxDelayMs: 2 },
  })
  const writer = sink.createWriter(context)
  writer.write('a', undefined)
  const error = (await writer.flush().catch((e) => e)) as Error & { code?: string }
  assert.is(error.code, 'ERR_CONNECT')
  assert.match(error.message, `nodes http://127.0.0.1:${port}: cannot connect after 3 attempt(s)`)
  assert.not.match(inspect(error, { depth: 10 }), 'hunter2')
  const rejected = await writer.ready()?.catch((e) => e)
  assert.is((rejected as { code?: string }).code, 'ERR_CONNECT', 'ready() fails too')
  await writer.close()
})

Connection('a cluster lost mid-stream: bulk retries used up end in ERR_CONNECT naming the nodes', async () => {
  const es = await startElasticsearchServer()
  const writer = new ElasticsearchSink<string>({
    nodes: es.url,
    emitter,
    bulkRetry: { maxRetries: 2, initialDelayMs: 1, maxDelayMs: 2 },
  }).createWriter(context)
  await writer.flush()
  await es.stop()
  writer.write('a', undefined)
  const error = (await writer.flush().catch((e) => e)) as Error & { code?: string }
  assert.is(error.code, 'ERR_CONNECT')
  assert.match(error.message, /cannot reach the cluster after 3 attempt\(s\)/)
  await writer.close()
})

Connection('TLS: a node with a self-signed certificate is trusted through tls.ca, and refused without it', async () => {
  const server = selfSignedCertificate()
  const es = await startElasticsearchServer({ tls: server })
  try {
    const trusting = new ElasticsearchSink<string>({ nodes: es.url, emitter, tls: { ca: server.cert } }).createWriter(
      context,
    )
    trusting.write('a', undefined)
    await trusting.flush()
    assert.is(es.documents('words').size, 1)
    assert.is(es.received[0]?.clientCertificate, '', 'over TLS, without a client certificate')
    await trusting.close()

    const refusing = new ElasticsearchSink<string>({
      nodes: es.url,
      emitter,
      maxRetries: 1,
      initialDelayMs: 1,
    }).createWriter(context)
    refusing.write('b', undefined)
    const error = (await refusing.flush().catch((e) => e)) as Error & { code?: string }
    assert.is(error.code, 'ERR_CONNECT')
    assert.match(error.message, /self-signed certificate/)
    assert.not.match(inspect(error, { depth: 10 }), server.key.toString())
    assert.is(es.received.length, 1, 'nothing was sent to the untrusted node')
    await refusing.close()
  } finally {
    await es.stop()
  }
})

Connection(
  'TLS: a client certificate (mutual TLS) is presented; rejectUnauthorized false accepts any node',
  async () => {
    const server = selfSignedCertificate()
    const client = selfSignedCertificate({ cn: 'sluice-sink' })
    const es = await startElasticsearchServer({ tls: { ...server, clientCa: client.cert } })
    try {
      const mutual = new ElasticsearchSink<string>({
        nodes: es.url,
        emitter,
        tls: { ca: server.cert, cert: client.cert, key: client.key },
      }).createWriter(context)
      mutual.write('a', undefined)
      await mutual.flush()
      assert.is(es.received[0]?.clientCertificate, 'sluice-sink')
      await mutual.close()

      const anyNode = new ElasticsearchSink<string>({
        nodes: es.url,
        emitter,
        tls: { rejectUnauthorized: false, cert: client.cert, key: client.key },
      }).createWriter(context)
      anyNode.write('b', undefined)
      await anyNode.flush()
      assert.is(es.documents('words').size, 2)
      await anyNode.close()
    } finally {
      await es.stop()
    }
  },
)

Connection('TLS options: bad values named by path, a key never printed, cert without key refused', () => {
  const keyError = configErrorMessage(() => elasticsearchSink({ emitter, tls: { key: 42 as never, cert: 'PEM' } }))
  assert.match(keyError, 'elasticsearchSink.tls.key')
  assert.match(
    configErrorMessage(() => elasticsearchSink({ emitter, tls: { cert: '-----BEGIN CERTIFICATE-----' } })),
    'elasticsearchSink.tls.key',
  )
  const secret = configErrorMessage(() =>
    elasticsearchSink({ emitter, tls: { cert: 'c', key: 'k', passphrase: 7 as never } }),
  )
  assert.match(secret, 'elasticsearchSink.tls.passphrase')
  assert.not.match(secret, '7')
  assert.is(elasticsearchSink({ emitter, tls: {} }).settings.connection.tls?.rejectUnauthorized, true)
})

Connection.run()

import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { connect as connectTls } from 'node:tls'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { TcpServerSource, type TcpServerSourceOptions } from '../../../lib/connectors/tcp-server/index.js'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import type { SourceOutput } from '../../../lib/runtime/source.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { checkPortRangeJob } from '../../support/port-range-job.js'
import { selfSignedCertificate } from '../../support/self-signed-certificate.js'
import { waitFor } from '../../support/wait-for.js'

const Endpoints = suite('tcp server source endpoints: TLS, callback URL, port ranges')

function reader<T>(options: TcpServerSourceOptions<T>) {
  const source = new TcpServerSource<T>(options)
  const reader = source.createReader({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
  const records: T[] = []
  const output: SourceOutput<T> = { collect: (v) => void records.push(v), emitWatermark: () => {}, markIdle: () => {} }
  const poll = (): void => {
    while (reader.pollNext(output) === 'more');
  }
  return { source, reader, records, poll }
}

/** A loopback HTTP server that records each POST and answers `status()`. */
async function callbackServer(status: () => number) {
  const posts: Array<{ body: unknown; headers: IncomingHttpHeaders }> = []
  const server = createHttpServer((req, res) => {
    let text = ''
    req.on('data', (c: Buffer) => {
      text += c.toString()
    })
    req.on('end', () => {
      posts.push({ body: JSON.parse(text), headers: req.headers })
      res.writeHead(status()).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { posts, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

Endpoints('TLS: a client trusting the self-signed certificate is read; a plain-text client is not', async () => {
  const { key, cert } = selfSignedCertificate()
  const r = reader<string>({ tls: { key, cert } })
  await r.reader.start()
  try {
    const address = r.source.address!
    assert.ok(address.url.startsWith('tls://127.0.0.1:'), address.url)
    const plain = connect(address.port, '127.0.0.1')
    plain.on('error', () => {})
    plain.write('not encrypted\n')
    await new Promise<void>((resolve) => plain.on('close', () => resolve()))
    const secure = connectTls({ port: address.port, host: '127.0.0.1', ca: cert })
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject))
    assert.ok(secure.authorized, 'the client verified the certificate')
    secure.end('a\nb\n')
    await waitFor(() => {
      r.poll()
      return r.records.length === 2
    })
    assert.equal(r.records, ['a', 'b'])
    assert.is(r.source.stats.connections, 1, 'the plain-text client never became a connection')
  } finally {
    await r.reader.close()
  }
})

Endpoints('callbackUrl: told { host, port, subtask } once listening, with Basic auth from the URL', async () => {
  const registry = await callbackServer(() => 204)
  const r = reader<string>({ callbackUrl: `http://ingest:s3cret@127.0.0.1:${registry.port}/sources/tcp` })
  try {
    await r.reader.start()
    assert.is(registry.posts.length, 1)
    const { body, headers } = registry.posts[0]!
    assert.equal(body, { host: '127.0.0.1', port: r.source.address!.port, subtask: 0 })
    assert.is(headers.authorization, `Basic ${Buffer.from('ingest:s3cret').toString('base64')}`)
  } finally {
    await r.reader.close()
    await registry.close()
  }
})

Endpoints(
  'callbackUrl: retried on the retry schedule, then ConnectorError ERR_CALLBACK naming the URL without credentials',
  async () => {
    let answers = 0
    const registry = await callbackServer(() => (++answers < 3 ? 500 : 200))
    const url = `http://ingest:s3cret@127.0.0.1:${registry.port}/register?token=t0k`
    const recovers = reader<string>({ callbackUrl: url, callbackRetry: { maxRetries: 2, initialDelayMs: 1 } })
    const fails = reader<string>({ callbackUrl: url, callbackRetry: { maxRetries: 1, initialDelayMs: 1 } })
    try {
      await recovers.reader.start()
      assert.is(registry.posts.length, 3, 'two failed answers, then 200')
      answers = 0
      const error = await fails.reader.start().then(
        () => undefined,
        (e: unknown) => e,
      )
      assert.ok(error instanceof ConnectorError, String(error))
      assert.is(error.code, 'ERR_CALLBACK')
      assert.ok(error.message.includes(`http://127.0.0.1:${registry.port}/register`), error.message)
      assert.ok(error.message.includes('answered 500'), error.message)
      assert.not.ok(/s3cret|ingest|t0k/.test(error.message), error.message)
      assert.is(registry.posts.length, 5, 'one attempt and one retry')
    } finally {
      await recovers.reader.close()
      await fails.reader.close()
      await registry.close()
    }
  },
)

Endpoints('options: a bad callbackUrl, callbackRetry or port range fails at build time naming the option', () => {
  const fails = (options: object, path: string) =>
    assert.throws(
      () => new TcpServerSource(options as TcpServerSourceOptions<string>),
      (e: unknown) => e instanceof ConfigError && e.message.includes(path),
      path,
    )
  fails({ callbackUrl: 'ftp://x/' }, 'tcpServerSource.callbackUrl')
  fails({ callbackUrl: 'not a url' }, 'tcpServerSource.callbackUrl')
  fails({ callbackRetry: { maxRetris: 1 } }, 'tcpServerSource.callbackRetry.maxRetris')
  fails({ port: { from: 9001, to: 9000 } }, 'tcpServerSource.port.to')
  fails({ port: { from: 0, to: 3 } }, 'tcpServerSource.port')
  fails({ port: { from: 9000, to: 9001, step: 2 } }, 'tcpServerSource.port.step')
  assert.is(new TcpServerSource({ port: { from: 9000, to: 9003 } }).maxParallelism, 4)
  assert.is(new TcpServerSource({ port: 9000 }).maxParallelism, 1)
})

Endpoints('a port range: each of 2 subtasks listens on its own port, shown on the source and in the job metrics', () =>
  checkPortRangeJob(
    (port) => new TcpServerSource<string>({ port }),
    async ({ port }, text) => void connect(port, '127.0.0.1').end(`${text}\n`),
  ),
)

Endpoints.run()

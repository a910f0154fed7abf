import { request as httpsRequest } from 'node:https'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { HttpServerSource, type HttpServerSourceOptions } from '../../../lib/connectors/http-server/index.js'
import { ConfigError } from '../../../lib/errors.js'
import type { SourceOutput } from '../../../lib/runtime/source.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { freePortPair } from '../../support/free-port-pair.js'
import { checkPortRangeJob } from '../../support/port-range-job.js'
import { selfSignedCertificate } from '../../support/self-signed-certificate.js'
import { waitFor } from '../../support/wait-for.js'

const Endpoints = suite('http server source endpoints: TLS, port ranges')

/** Subtask `subtask` of `parallelism`, started by hand, and what it emitted. */
async function open<T>(source: HttpServerSource<T>, subtask: number, parallelism: number, restored: unknown[] = []) {
  const reader = source.createReader(
    { subtask, parallelism, processingTime: systemProcessingTime },
    restored as never[],
  )
  await reader.start()
  const records: T[] = []
  const output: SourceOutput<T> = { collect: (v) => void records.push(v), emitWatermark: () => {}, markIdle: () => {} }
  const drain = (): void => {
    while (reader.pollNext(output) === 'more');
  }
  return { reader, records, drain, url: source.addresses[subtask]!.url }
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', body, headers })

/** A POST over HTTPS trusting `ca`: the status, or the error of a failed handshake. */
function postTls(url: string, body: string, ca: Buffer | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'POST', ca }, (res) => {
      res.resume()
      resolve(res.statusCode!)
    })
    req.on('error', reject)
    req.end(body)
  })
}

Endpoints(
  'TLS: an HTTPS client trusting the self-signed certificate is answered; one that does not is refused',
  async () => {
    const { key, cert } = selfSignedCertificate()
    const source = new HttpServerSource<{ n: number }>({ tls: { key, cert } })
    const r = await open(source, 0, 1)
    try {
      assert.ok(r.url.startsWith('https://127.0.0.1:'), r.url)
      const untrusting = await postTls(r.url, '{"n":0}', undefined).then(
        () => undefined,
        (e: Error) => e,
      )
      assert.ok(untrusting instanceof Error, 'a client that does not trust the certificate fails the handshake')
      assert.is(await postTls(r.url, '{"n":1}', cert), 202)
      const plain = await post(r.url.replace('https:', 'http:'), '{"n":2}').then(
        (res) => res.status,
        (e: Error) => e,
      )
      assert.ok(plain instanceof Error, `plain HTTP is not answered: ${String(plain)}`)
      r.drain()
      assert.equal(r.records, [{ n: 1 }])
      assert.is(source.stats.requests, 1)
    } finally {
      await r.reader.close()
    }
  },
)

Endpoints('options: a bad tls or port range fails at build time naming the option', () => {
  const fails = (options: object, path: string) =>
    assert.throws(
      () => new HttpServerSource(options as HttpServerSourceOptions<unknown>),
      (e: unknown) => e instanceof ConfigError && e.message.includes(path) && !e.message.includes('secret'),
      path,
    )
  fails({ tls: 'secret' }, 'httpServerSource.tls')
  fails({ port: { from: 9001, to: 9000 } }, 'httpServerSource.port.to')
  fails({ port: { from: 9000, to: 9001, step: 2 } }, 'httpServerSource.port.step')
  assert.is(new HttpServerSource({ port: { from: 9000, to: 9003 } }).maxParallelism, 4)
  assert.is(new HttpServerSource({ port: 9000 }).maxParallelism, 1)
})

Endpoints('a port range: each of 2 subtasks listens on its own port, shown on the source and in the job metrics', () =>
  checkPortRangeJob(
    (port) => new HttpServerSource<string>({ port, format: 'text' }),
    async ({ url }, text) => assert.is((await post(url, text)).status, 202),
  ),
)

Endpoints(
  'Idempotency-Keys with a port range: remembered per port; after a restore every subtask knows every key',
  async () => {
    const from = await freePortPair()
    const options = { port: { from, to: from + 1 }, ackMode: 'checkpointed' } as const
    const source = new HttpServerSource<{ n: number }>(options)
    assert.is(source.restoredSplits, 'all', 'every reader is given every restored split')
    const zero = await open(source, 0, 2)
    const one = await open(source, 1, 2)
    let states: unknown[] = []
    try {
      const first = post(zero.url, '{"n":1}', { 'Idempotency-Key': 'k1' })
      const second = post(one.url, '{"n":2}', { 'Idempotency-Key': 'k2' })
      // the same key on the other port is another request: keys are per port
      const elsewhere = post(one.url, '{"n":1}', { 'Idempotency-Key': 'k1' })
      await waitFor(() => zero.reader.bufferedRecords === 1 && one.reader.bufferedRecords === 2)
      zero.drain()
      one.drain()
      states = [...zero.reader.snapshotState(1), ...one.reader.snapshotState(1)]
      zero.reader.notifyCheckpointComplete(1)
      one.reader.notifyCheckpointComplete(1)
      assert.equal(
        await Promise.all([first, second, elsewhere].map((p) => p.then((res) => res.status))),
        [200, 200, 200],
      )
      assert.equal(one.records.map((r) => r.n).sort(), [1, 2], 'k1 taken again on the other port')
    } finally {
      await zero.reader.close()
      await one.reader.close()
    }
    // restored at parallelism 1: port from + 1 is gone, and its client retries on the port left
    const rescaled = new HttpServerSource<{ n: number }>(options)
    const only = await open(rescaled, 0, 1, states)
    try {
      const retry = await post(only.url, '{"n":2}', { 'Idempotency-Key': 'k2' })
      assert.equal(await retry.json(), { records: 0, duplicate: true })
      only.drain()
      assert.equal(only.records, [], 'the key of the removed port is recognised')
    } finally {
      await only.reader.close()
    }
  },
)

Endpoints.run()

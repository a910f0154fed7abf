import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { type HttpServerSourceOptions, HttpServerSource } from '../../../lib/connectors/http-server/index.js'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import { ConfigError } from '../../../lib/errors.js'
import type { DeadLetter } from '../../../lib/runtime/output-tag.js'
import type { SourceOutput } from '../../../lib/runtime/source.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { waitFor } from '../../support/wait-for.js'

const Http = suite('http server source')

/** A started reader, what it emitted and the dead letters it sent. */
async function open<T>(options: HttpServerSourceOptions<T>, restored: unknown[] = []) {
  const source = new HttpServerSource<T>(options)
  const letters: DeadLetter[] = []
  const reader = source.createReader(
    { subtask: 0, parallelism: 1, processingTime: systemProcessingTime, deadLetter: (l) => letters.push(l) },
    restored as never[],
  )
  await reader.start()
  const records: T[] = []
  const output: SourceOutput<T> = { collect: (v) => void records.push(v), emitWatermark: () => {}, markIdle: () => {} }
  const drain = (): void => {
    while (reader.pollNext(output) === 'more');
  }
  return { source, reader, records, letters, drain, url: source.address!.url }
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', body, headers })

Http('options: unknown keys, bad values and paths fail at build time naming the option', () => {
  const fails = (options: object, path: string) =>
    assert.throws(
      () => new HttpServerSource(options as HttpServerSourceOptions<unknown>),
      (e: unknown) => e instanceof ConfigError && e.message.includes(path),
      path,
    )
  fails({ prot: 80 }, 'httpServerSource.prot')
  fails({ port: 70_000 }, 'httpServerSource.port')
  fails({ ackMode: 'durable' }, 'httpServerSource.ackMode')
  fails({ path: 'ingest' }, 'httpServerSource.path')
  fails({ healthPath: '/' }, 'httpServerSource.healthPath')
  fails({ headersTimeoutMs: 100, requestTimeoutMs: 50 }, 'httpServerSource.requestTimeoutMs')
  fails({ decoder: 'JSON' }, 'httpServerSource.decoder')
  const source = new HttpServerSource({})
  assert.is(source.settings.host, '127.0.0.1', 'loopback by default')
  assert.is(source.settings.port, 0)
})

Http(
  'JSON, NDJSON, text, bytes and query parameters become records through the decoder (202 in accepted mode)',
  async () => {
    const json = await open({ decoder: (v, r) => ({ v, tag: r.query.get('tag') }) })
    const ndjson = await open({ format: 'ndjson' })
    const text = await open({ format: 'text' })
    const bytes = await open<Buffer>({ format: 'bytes' })
    const query = await open({ format: 'query' })
    try {
      const r1 = await post(`${json.url}?tag=t`, '{"n":1}')
      assert.is(r1.status, 202)
      assert.equal(await r1.json(), { records: 1 })
      assert.is((await post(ndjson.url, '{"n":1}\n\n{"n":2}\n')).status, 202)
      assert.is((await post(text.url, 'héllo')).status, 202)
      assert.is((await post(bytes.url, 'ab')).status, 202)
      assert.is((await fetch(`${query.url}?a=1&b=x`)).status, 202)
      for (const r of [json, ndjson, text, bytes, query]) r.drain()
      assert.equal(json.records, [{ v: { n: 1 }, tag: 't' }])
      assert.equal(ndjson.records, [{ n: 1 }, { n: 2 }])
      assert.equal(text.records, ['héllo'])
      assert.equal(bytes.records[0]!.toString(), 'ab')
      assert.equal(query.records, [{ a: '1', b: 'x' }])
    } finally {
      for (const r of [json, ndjson, text, bytes, query]) await r.reader.close()
    }
  },
)

Http('malformed JSON and a failing decoder: 400 with the reason, a dead letter, nothing emitted', async () => {
  const r = await open({
    format: 'ndjson',
    decoder: (v) => {
      if ((v as { n: number }).n < 0) throw new Error('negative n')
      return v
    },
  })
  try {
    const bad = await post(r.url, '{"n":1}\n{oops\n')
    assert.is(bad.status, 400)
    assert.match(((await bad.json()) as { error: string }).error, /line 2 is not JSON/)
    assert.is((await post(r.url, '{"n":-1}')).status, 400)
    r.drain()
    assert.equal(r.records, [], 'a request is taken whole or not at all')
    assert.is(r.letters.length, 2)
    assert.match(r.letters[0]!.reason, /line 2 is not JSON/)
    assert.is(r.letters[0]!.record, '{"n":1}\n{oops\n')
    assert.is(r.letters[1]!.reason, 'negative n')
    assert.is(r.source.stats.badRequests, 2)
  } finally {
    await r.reader.close()
  }
})

Http('a body over maxBodyBytes: 413 and a dead letter, declared or streamed', async () => {
  const r = await open({ format: 'text', maxBodyBytes: 10 })
  try {
    assert.is((await post(r.url, 'x'.repeat(11))).status, 413)
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(r.url, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume()
        resolve(res.statusCode!)
      })
      req.on('error', reject)
      req.write('x'.repeat(8))
      setImmediate(() => req.end('x'.repeat(8)))
    })
    assert.is(streamed, 413)
    assert.is(r.source.stats.tooLarge, 2)
    assert.is(r.letters.length, 2)
    assert.match(r.letters[0]!.reason, /exceeds maxBodyBytes \(10\)/)
  } finally {
    await r.reader.close()
  }
})

Http('token auth: 401 without or with a wrong bearer token; the health endpoint needs none', async () => {
  const r = await open({ token: 's3cret' })
  try {
    assert.is((await post(r.url, '1')).status, 401)
    assert.is((await post(r.url, '1', { Authorization: 'Bearer nope' })).status, 401)
    assert.is((await post(r.url, '1', { Authorization: 'Bearer s3cret' })).status, 202)
    const health = await fetch(`http://127.0.0.1:${r.source.address!.port}/health`)
    assert.is(health.status, 200)
    assert.equal(await health.json(), { status: 'ok', buffered: 1, held: 0 })
    assert.is(r.source.stats.unauthorized, 2)
  } finally {
    await r.reader.close()
  }
})

Http('a full buffer answers 503 with Retry-After; whenFull hold answers once the job made room', async () => {
  const rejecting = await open({ maxBufferedRecords: 2, retryAfterSeconds: 3 })
  const holding = await open({ maxBufferedRecords: 2, whenFull: 'hold', holdTimeoutMs: 5000 })
  const expiring = await open({ maxBufferedRecords: 1, whenFull: 'hold', holdTimeoutMs: 30 })
  try {
    assert.is((await post(rejecting.url, '[1]')).status, 202)
    assert.is((await post(rejecting.url, '[2]')).status, 202)
    const full = await post(rejecting.url, '[3]')
    assert.is(full.status, 503)
    assert.is(full.headers.get('retry-after'), '3')
    assert.is(rejecting.source.stats.rejected, 1)

    await post(holding.url, '1')
    await post(holding.url, '2')
    let status = 0
    const third = post(holding.url, '3').then((res) => {
      status = res.status
    })
    await waitFor(() => holding.reader.heldRequests === 1)
    assert.is(status, 0, 'held, not answered')
    holding.drain()
    await third
    assert.is(status, 202)
    holding.drain()
    assert.equal(holding.records, [1, 2, 3])

    await post(expiring.url, '1')
    const late = await post(expiring.url, '2')
    assert.is(late.status, 503, 'held past holdTimeoutMs')
    assert.is(expiring.reader.heldRequests, 0)
    expiring.drain()
    assert.equal(expiring.records, [1])
  } finally {
    for (const r of [rejecting, holding, expiring]) await r.reader.close()
  }
})

Http('keep-alive and non-keep-alive requests are both answered', async () => {
  const r = await open({})
  try {
    const closing = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = httpRequest(r.url, { method: 'POST', agent: false, headers: { Connection: 'close' } }, (res) => {
        res.resume()
        resolve({ status: res.statusCode!, connection: res.headers.connection })
      })
      req.on('error', reject)
      req.end('1')
    })
    assert.equal(closing, { status: 202, connection: 'close' })
    for (let i = 2; i <= 5; i++) assert.is((await post(r.url, String(i))).status, 202)
    r.drain()
    assert.equal(r.records, [1, 2, 3, 4, 5])
  } finally {
    await r.reader.close()
  }
})

Http(
  'checkpointed: 200 only once the checkpoint covering the records completed; a retried key is not taken twice',
  async () => {
    const r = await open({ ackMode: 'checkpointed' })
    try {
      let answered = 0
      const first = post(r.url, '{"n":1}', { 'Idempotency-Key': 'k1' }).then(async (res) => {
        answered = res.status
        return res.json()
      })
      await waitFor(() => r.reader.bufferedRecords === 1)
      r.drain()
      const state = r.reader.snapshotState(1)
      assert.equal(state, [{ v: 1, keys: [['k1', 0]] }])
      // a retry while the first attempt waits joins it
      const retry = post(r.url, '{"n":1}', { 'Idempotency-Key': 'k1' })
      await waitFor(() => r.source.stats.duplicates === 1)
      assert.is(answered, 0, 'not answered before the checkpoint completed')
      r.reader.notifyCheckpointComplete(1)
      assert.equal(await first, { records: 1 })
      assert.is(answered, 200)
      assert.is((await retry).status, 200)
      const late = await post(r.url, '{"n":1}', { 'Idempotency-Key': 'k1' })
      assert.equal(await late.json(), { records: 0, duplicate: true })
      r.drain()
      assert.equal(r.records, [{ n: 1 }], 'taken once')
      const restored = r.reader.snapshotState(2)
      await r.reader.close()

      const again = await open({ ackMode: 'checkpointed' }, restored)
      try {
        const afterCrash = await post(again.url, '{"n":1}', { 'Idempotency-Key': 'k1' })
        assert.is(afterCrash.status, 200)
        again.drain()
        assert.equal(again.records, [], 'a restored key is recognised')
      } finally {
        await again.reader.close()
      }
    } finally {
      await r.reader.close()
    }
  },
)

Http('slowloris: a connection that never finishes its headers is closed by headersTimeoutMs', async () => {
  const r = await open({ headersTimeoutMs: 100, requestTimeoutMs: 200 })
  try {
    const started = performance.now()
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const socket = connect(r.source.address!.port, '127.0.0.1', () => {
        socket.write('POST / HTTP/1.1\r\nHost: x\r\n')
      })
      socket.on('error', reject)
      socket.resume()
      socket.on('close', () => resolve(performance.now() - started))
    })
    assert.ok(closedAfter < 2000, `closed after ${closedAfter.toFixed(0)} ms`)
  } finally {
    await r.reader.close()
  }
})

Http(
  'in a job: records reach the sink, and a malformed body is a dead letter on the job handle and in its metrics',
  async () => {
    const source = new HttpServerSource<{ n: number }>({ format: 'ndjson' })
    const received: number[] = []
    const env = StreamEnvironment.create({ logLevel: 'silent' })
    env.fromSource(source, { uid: 'http' }).sinkTo(new CallbackSink((v: { n: number }) => void received.push(v.n)))
    const job = env.executeAsync('http job')
    const letters: DeadLetter[] = []
    const subscription = job.deadLetters.subscribe((l) => letters.push(l))
    try {
      // the port its reader bound, from the job's metrics: on the worker executor the reader listens in a
      // worker thread, and this thread's copy of the source is never started
      const port = (): number | undefined =>
        job.metrics().details.find((d) => d.operator === 'http')?.metrics.listeningPort as number | undefined
      await waitFor(() => (port() ?? 0) > 0, { timeoutMs: 10_000, description: 'the source listens' })
      const url = `http://127.0.0.1:${port()}/`
      assert.is((await post(url, '{"n":1}\n{"n":2}\n')).status, 202)
      assert.is((await post(url, '{"n":')).status, 400)
      await waitFor(() => received.length === 2 && letters.length === 1)
      assert.equal(received, [1, 2])
      assert.match(letters[0]!.reason, /line 1 is not JSON/)
      assert.is(letters[0]!.operator, 'http-server')
      assert.is(job.metrics().deadLetters, 1)
    } finally {
      subscription.unsubscribe()
      await job.cancel()
    }
  },
)

Http.run()

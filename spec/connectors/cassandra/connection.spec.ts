import { inspect } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { CassandraSink, type CassandraSinkOptions, cassandraSink } from '../../../lib/connectors/cassandra/index.js'
import { configErrorMessage } from '../../support/connector-checks.js'
import { CqlTestServer, type CqlTestServerOptions } from '../../support/cql-server.js'
import { selfSignedCertificate } from '../../support/self-signed-certificate.js'
import { writerContext } from './support.js'

/**
 * The connection against the CQL protocol test server (spec/support/cql-server.ts): a login as
 * PasswordAuthenticator asks for it (SASL PLAIN), TLS with a private CA (refused without it, unlike
 * the driver's own default), and a slow node: `ready()` keeps requests in flight within
 * `maxConcurrentRequests` and records waiting within their bound.
 */
const Connection = suite('cassandra sink: login, TLS, slow node')
const INSERT = 'INSERT INTO shop.orders (id, item) VALUES (?, ?)'
const PASSWORD = 'hunter2-password'
let node: CqlTestServer | undefined

Connection.after.each(async () => {
  await node?.close()
  node = undefined
})

interface Order {
  readonly id: number
  readonly item: string
}

async function start(options: CqlTestServerOptions = {}): Promise<CqlTestServer> {
  node = await CqlTestServer.start(options)
  node.defineTable('shop.orders', { id: 'int', item: 'text' }, ['id'])
  return node
}

function sinkTo(server: CqlTestServer, options: Partial<CassandraSinkOptions<Order>> = {}): CassandraSink<Order> {
  return new CassandraSink<Order>({
    contactPoints: [server.contactPoint],
    localDataCenter: server.dataCenter,
    statement: (o) => ({ query: INSERT, params: [o.id, o.item] }),
    maxRetries: 1,
    initialDelayMs: 1,
    ...options,
  })
}

/** Writes orders 1..count through a writer of `sink` and flushes; the flush's error, if any. */
async function writeOrders(
  sink: CassandraSink<Order>,
  count: number,
): Promise<(Error & { code?: string }) | undefined> {
  const writer = sink.createWriter(writerContext())
  try {
    await writer.ready()
    for (let id = 1; id <= count; id++) writer.write({ id, item: `item-${id}` }, undefined)
    await writer.flush()
    return undefined
  } catch (error) {
    return error as Error & { code?: string }
  } finally {
    await writer.close()
  }
}

const ids = (server: CqlTestServer) =>
  server
    .rows('shop.orders')
    .map((r) => r.id as number)
    .sort((a, b) => a - b)

Connection(
  'a node asking for a login: the credentials log in; a wrong password is ERR_CONNECT without it',
  async () => {
    const server = await start({ credentials: { username: 'writer', password: PASSWORD } })
    assert.is(
      await writeOrders(sinkTo(server, { credentials: { username: 'writer', password: PASSWORD } }), 3),
      undefined,
    )
    assert.equal(ids(server), [1, 2, 3])
    assert.ok(server.logins.length > 0 && server.logins.every((l) => l.accepted && l.username === 'writer'))

    const error = await writeOrders(
      sinkTo(server, { credentials: { username: 'writer', password: 'wrong-secret' } }),
      1,
    )
    assert.is(error?.code, 'ERR_CONNECT')
    assert.match(error!.message, /incorrect/)
    assert.not.match(inspect(error, { depth: 10 }), 'wrong-secret')
    assert.ok(server.logins.some((l) => !l.accepted))
  },
)

Connection('TLS: a node with a self-signed certificate is trusted through tls.ca, refused without it', async () => {
  const certificate = selfSignedCertificate()
  const server = await start({ tls: certificate, credentials: { username: 'writer', password: PASSWORD } })
  const credentials = { username: 'writer', password: PASSWORD }
  assert.is(await writeOrders(sinkTo(server, { credentials, tls: { ca: certificate.cert } }), 2), undefined)
  assert.equal(ids(server), [1, 2])

  const untrusted = await writeOrders(sinkTo(server, { credentials, tls: {} }), 1)
  assert.is(untrusted?.code, 'ERR_CONNECT', 'the driver alone would accept any certificate')
  assert.match(untrusted!.message, `no host answered: ${server.contactPoint}: self-signed certificate`)
  assert.not.match(untrusted!.message, /\n\s+at /, 'one line, no stack trace of the driver inside')
  assert.not.match(inspect(untrusted, { depth: 10 }), PASSWORD)

  assert.is(await writeOrders(sinkTo(server, { credentials, tls: { rejectUnauthorized: false } }), 3), undefined)
  assert.equal(ids(server), [1, 2, 3])
  const plain = await writeOrders(sinkTo(server, { credentials, connectTimeoutMs: 300, requestTimeoutMs: 300 }), 1)
  assert.is(plain?.code, 'ERR_CONNECT', 'a plain connection to a TLS port')
})

Connection('TLS options are validated by path when the sink is built', () => {
  const statement = (o: Order) => ({ query: INSERT, params: [o.id] })
  assert.match(
    configErrorMessage(() => cassandraSink({ statement, tls: { ca: 5 as never } })),
    'cassandraSink.tls.ca',
  )
  assert.match(
    configErrorMessage(() => cassandraSink({ statement, tls: { rejectUnauthorised: false } as never })),
    'did you mean rejectUnauthorized?',
  )
  assert.is(cassandraSink({ statement, tls: {} }).settings.tls?.rejectUnauthorized, true)
})

Connection(
  'a slow node: requests in flight stay within maxConcurrentRequests, records waiting within their bound',
  async () => {
    const server = await start()
    server.delayMs = 15
    const writer = sinkTo(server, { maxConcurrentRequests: 4 }).createWriter(writerContext())
    await writer.ready()
    let waits = 0
    let maxInFlight = 0
    for (let id = 1; id <= 200; id++) {
      const ready = writer.ready()
      if (ready !== undefined) {
        waits++
        await ready
      }
      writer.write({ id, item: 'x'.repeat(100) }, undefined)
      maxInFlight = Math.max(maxInFlight, writer.metricGroup.value('requestsInFlight') ?? 0)
    }
    await writer.flush()
    await writer.close()
    assert.ok(waits > 0, 'ready() held the writer back')
    assert.is(server.maxInFlight, 4, 'the node saw four requests at once, never more')
    assert.ok(maxInFlight <= 4, `requests in flight ${maxInFlight}`)
    assert.is(ids(server).length, 200)
  },
)

Connection.run()

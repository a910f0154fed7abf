import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { flumeSink } from '../../../lib/connectors/flume/index.js'
import { HostOrder } from '../../../lib/connectors/flume/host-order.js'
import { flumeSinkSettings } from '../../../lib/connectors/flume/options.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { configErrorMessage } from '../../support/connector-checks.js'

/** The Flume sink's options, checked when the sink is built, and the order in which a batch tries the hosts. */
const Options = suite('flume sink options and host order')

const mapper = (s: string) => ({ body: s })

Options('defaults: one Avro host, batches of 100, 10 ms linger, 5 retries', () => {
  const s = flumeSinkSettings({ hosts: 'agent-1:41414', mapper })
  assert.equal(s.hosts, [{ host: 'agent-1', port: 41414, address: 'agent-1:41414' }])
  assert.is(s.transport, 'avro')
  assert.is(s.clientType, 'default')
  assert.is(s.maxBatchRecords, 100)
  assert.is(s.lingerMs, 10)
  assert.is(s.retry.maxRetries, 5)
  assert.equal(s.hostBackoff, { initialDelayMs: 1_000, maxDelayMs: 30_000 })
})

Options('a bad value names its option path; a misspelt key suggests the known one', () => {
  const bad = (options: object) => configErrorMessage(() => flumeSink({ hosts: 'a:1', mapper, ...options } as never))
  assert.match(bad({ batchSize: 5 }), 'flumeSink.batchSize: 5 (expected no such option; known: hosts, mapper')
  assert.match(bad({ maxBatchRecord: 5 }), 'did you mean maxBatchRecords?')
  assert.match(bad({ hosts: ['a:1', 'b'], clientType: 'failover' }), 'flumeSink.hosts[1]: "b"')
  assert.match(bad({ hosts: 'a:99999' }), 'flumeSink.hosts: "a:99999"')
  assert.match(bad({ hosts: [] }), 'flumeSink.hosts')
  assert.match(bad({ hosts: ['a:1', 'b:2'] }), "one host for clientType 'default'")
  assert.match(bad({ clientType: 'roundrobin' }), 'flumeSink.clientType')
  assert.match(
    bad({ selector: 'random' }),
    'flumeSink.selector: "random" (expected no selector: it is for clientType \'load-balance\')',
  )
  assert.match(bad({ transport: 'thrift' }), 'flumeSink.transport: "thrift"')
  assert.match(bad({ mapper: 'body' }), 'flumeSink.mapper')
  assert.match(bad({ retry: { maxDelayMs: -1 } }), 'flumeSink.retry.maxDelayMs')
  assert.match(bad({ retry: { maxRetry: 1 } }), 'flumeSink.retry.maxRetry')
  assert.match(
    bad({ clientType: 'load-balance', hosts: ['a:1', 'b:2'], hostBackoff: { initialDelayMs: 'soon' } }),
    'flumeSink.hostBackoff.initialDelayMs',
  )
  assert.match(bad({ maxInFlightRecords: 10, maxBatchRecords: 100 }), 'flumeSink.maxInFlightRecords')
  assert.match(bad({ lingerMs: -1 }), 'flumeSink.lingerMs')
  assert.is(
    configErrorMessage(() =>
      flumeSink({
        hosts: ['a:1', '[::1]:2'],
        clientType: 'load-balance',
        selector: 'random',
        hostBackoff: false,
        mapper,
      }),
    ),
    'accepted',
  )
})

Options('the mapper must return { headers?, body }: anything else is refused for that record', () => {
  const writer = flumeSink<unknown>({ hosts: 'a:1', mapper: (v) => v as never }).createWriter({
    subtask: 0,
    parallelism: 1,
    processingTime: systemProcessingTime,
  })
  assert.throws(() => writer.write({ body: 7 }, undefined), /flume sink mapper returned \{"body":7\}/)
  assert.throws(
    () => writer.write({ headers: { n: 1 }, body: 'x' }, undefined),
    /expected \{ headers\?: Record<string, string>/,
  )
  const http = flumeSink<Uint8Array>({ hosts: 'a:1', transport: 'http', mapper: (b) => ({ body: b }) }).createWriter({
    subtask: 0,
    parallelism: 1,
    processingTime: systemProcessingTime,
  })
  assert.throws(() => http.write(Uint8Array.of(0xff, 0xfe), undefined), /not UTF-8 text/)
})

const hosts = ['a:1', 'b:2', 'c:3'].map((address) => ({ host: address[0]!, port: Number(address[2]), address }))

Options('failover: the current host first; after it fails the next one stays current', () => {
  const order = new HostOrder({ hosts, clientType: 'failover', selector: 'round-robin', hostBackoff: false }, () => 0)
  assert.equal(order.next(), [0, 1, 2])
  order.succeeded(0)
  assert.equal(order.next(), [0, 1, 2])
  order.failed(0)
  assert.equal(order.next(), [1, 2, 0])
  order.succeeded(1)
  assert.equal(order.next(), [1, 2, 0], 'stays on the host that took over')
})

Options(
  'load-balance: round-robin turns, random shuffles, a failed host is tried last until its backoff passed',
  () => {
    let now = 0
    const backoff = { initialDelayMs: 1_000, maxDelayMs: 4_000 }
    const rr = new HostOrder(
      { hosts, clientType: 'load-balance', selector: 'round-robin', hostBackoff: backoff },
      () => now,
    )
    assert.equal(
      [rr.next(), rr.next(), rr.next(), rr.next()],
      [
        [0, 1, 2],
        [1, 2, 0],
        [2, 0, 1],
        [0, 1, 2],
      ],
    )
    rr.failed(1)
    assert.ok(rr.backedOff(1))
    assert.equal(rr.next(), [2, 0, 1], 'b last while backed off')
    now = 999
    assert.equal(rr.next(), [2, 0, 1])
    now = 1_000
    assert.equal(rr.next(), [0, 1, 2], 'back in turn after 1 s')
    rr.failed(1)
    now = 2_999
    assert.ok(rr.backedOff(1), 'the second failure in a row doubles the skip')
    rr.failed(1)
    rr.failed(1)
    now += 4_000
    assert.ok(!rr.backedOff(1), 'capped at maxDelayMs')
    rr.succeeded(1)
    assert.ok(!rr.backedOff(1))

    const draws = [0.99, 0.0]
    const random = new HostOrder(
      { hosts, clientType: 'load-balance', selector: 'random', hostBackoff: false },
      () => 0,
      () => draws.shift() ?? 0.5,
    )
    assert.equal(random.next(), [1, 0, 2])
  },
)

Options.run()

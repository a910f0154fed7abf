import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { type NiFiRecord, NiFiSink, NiFiSource, type NiFiSourceOptions } from '../../../lib/connectors/nifi/index.js'
import { ConnectorError } from '../../../lib/errors.js'
import { map, StreamEnvironment } from '../../../lib/index.js'
import { createLogger } from '../../../lib/logging.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { SourceDriver } from '../../support/drive-source.js'
import { NiFiTestCluster } from '../../support/nifi-s2s-server.js'
import { selfSignedCertificate } from '../../support/self-signed-certificate.js'

/**
 * NiFi's secure site-to-site: the loopback NiFi serves HTTPS with a self-signed certificate that
 * openssl makes for this run and requires a client certificate (NiFi's `needClientAuth`); the
 * client's key is encrypted with a passphrase. Source and sink run through a job over it; a client
 * without a certificate, with a wrong passphrase or not trusting the server fails with ERR_CONNECT,
 * and the passphrase is in no error or log line.
 */
const Tls = suite('nifi: site-to-site over HTTPS with a client certificate')
const PASSPHRASE = 'pass-phrase-4821'
const server = selfSignedCertificate()
const client = selfSignedCertificate({ cn: 'sluice', passphrase: PASSPHRASE })
const fast = { initialDelayMs: 5, maxDelayMs: 20, pollIntervalMs: 5 }

Tls('source and sink over HTTPS with mutual TLS: each FlowFile relayed once', async () => {
  const nifi = await NiFiTestCluster.start({
    nodes: 2,
    inputPorts: ['in'],
    outputPorts: ['out'],
    tls: { key: server.key, cert: server.cert, ca: client.cert },
  })
  const N = 300
  try {
    assert.match(nifi.url, /^https:/)
    nifi.enqueue(
      'out',
      Array.from({ length: N }, (_, i) => ({ attributes: { seq: String(i) }, content: Buffer.from(`v${i}`) })),
    )
    const tls = { ca: server.cert, cert: client.cert, key: client.key, passphrase: PASSPHRASE }
    const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 20 } })
    env
      .fromSource(
        new NiFiSource({ urls: nifi.url, portName: 'out', tls, batchCount: 50, endWhenIdleMs: 50, ...fast }),
        { uid: 'in' },
      )
      .pipe(map((f: NiFiRecord) => f.content.toString().toUpperCase()))
      .sinkTo(
        new NiFiSink({
          urls: nifi.url,
          portName: 'in',
          tls,
          flowFile: (s: string) => ({ attributes: {}, content: Buffer.from(s) }),
        }),
        { uid: 'out' },
      )
    await env.executeAsync().result
    const got = nifi.received('in').map((f) => f.content.toString())
    assert.equal(
      got.sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))),
      Array.from({ length: N }, (_, i) => `V${i}`),
    )
    assert.is(nifi.queued('out'), 0)
    assert.is(nifi.openTransactions, 0)
    assert.ok(
      nifi.counts.requestsByNode.every((n) => n > 0),
      'both nodes served over HTTPS (peers listed as secure)',
    )
  } finally {
    await nifi.stop()
  }
})

Tls('refused TLS set-ups end in ERR_CONNECT after the retries; the passphrase is never printed', async () => {
  const nifi = await NiFiTestCluster.start({
    outputPorts: ['out'],
    tls: { key: server.key, cert: server.cert, ca: client.cert },
  })
  const lines: string[] = []
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) })
  const cases: Array<[string, NiFiSourceOptions['tls'], RegExp]> = [
    ['no client certificate', { ca: server.cert }, /certificate required/],
    [
      'a wrong passphrase',
      { ca: server.cert, cert: client.cert, key: client.key, passphrase: 'not-it-1234' },
      /bad decrypt/,
    ],
    [
      'the server not trusted',
      { cert: client.cert, key: client.key, passphrase: PASSPHRASE },
      /self-signed certificate/,
    ],
  ]
  try {
    for (const [what, tls, cause] of cases) {
      const source = new NiFiSource({ urls: nifi.url, portName: 'out', tls, maxRetries: 1, ...fast })
      const reader = source.createReader({
        subtask: 0,
        parallelism: 1,
        processingTime: systemProcessingTime,
        logger,
      })
      const driver = await SourceDriver.start({ name: 'nifi', bounded: false, createReader: () => reader })
      const error = await driver.run().then(
        () => undefined,
        (e: unknown) => e,
      )
      await driver.close()
      assert.instance(error, ConnectorError, what)
      assert.is((error as ConnectorError).code, 'ERR_CONNECT', what)
      assert.match((error as Error).message, cause, what)
      for (const secret of [PASSPHRASE, 'not-it-1234'])
        assert.not.ok(
          (error as Error).message.includes(secret) || lines.some((l) => l.includes(secret)),
          `${what}: passphrase printed`,
        )
    }
    assert.is(nifi.counts.transactionsBegun, 0, 'no request got through')
  } finally {
    await nifi.stop()
  }
})

Tls.run()

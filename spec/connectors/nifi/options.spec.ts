import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { NiFiSink, NiFiSource } from '../../../lib/connectors/nifi/index.js'
import { ConfigError } from '../../../lib/errors.js'

const flowFile = (s: string) => ({ attributes: {}, content: Buffer.from(s) })

function configError(build: () => unknown): ConfigError {
  try {
    build()
  } catch (e) {
    if (e instanceof ConfigError) return e
    throw e
  }
  throw new Error('no ConfigError')
}

test('defaults: batch 1000 / 4 MiB, 4 open transactions, uuids kept 10 minutes, 5 retries', () => {
  const s = new NiFiSource({ urls: 'http://127.0.0.1:8080/nifi', portName: 'out' }).settings
  assert.is(s.client.batchCount, 1000)
  assert.is(s.client.batchSizeBytes, 4 * 1024 * 1024)
  assert.is(s.maxOpenTransactions, 4)
  assert.is(s.dedupRetentionMs, 600_000)
  assert.is(s.endWhenIdleMs, undefined, 'unbounded unless endWhenIdleMs is set')
  assert.is(s.retry.maxRetries, 5)
  assert.equal(s.address.urls, ['http://127.0.0.1:8080/nifi'])
  const k = new NiFiSink({ urls: ['http://a:8080/nifi', 'http://b:8080/nifi'], portId: 'p1', flowFile }).settings
  assert.is(k.address.portId, 'p1')
  assert.is(k.resendExpired, true)
  assert.is(k.batchDurationMs, 0)
})

test('every bad option fails at build time naming its path', () => {
  const cases: Array<[() => unknown, string]> = [
    [() => new NiFiSource({ urls: [], portName: 'out' }), 'nifiSource.urls'],
    [() => new NiFiSource({ urls: 'ftp://h/nifi', portName: 'out' }), 'nifiSource.urls'],
    [() => new NiFiSource({ urls: ['http://h/nifi', 'nope'], portName: 'out' }), 'nifiSource.urls[1]'],
    [() => new NiFiSource({ urls: 'http://h/nifi' } as never), 'nifiSource.portName'],
    [() => new NiFiSource({ urls: 'http://h/nifi', portName: 'a', portId: 'b' }), 'nifiSource.portName'],
    [() => new NiFiSource({ urls: 'http://h/nifi', portName: 'a', batchCount: 0 }), 'nifiSource.batchCount'],
    [
      () => new NiFiSource({ urls: 'http://h/nifi', portName: 'a', maxOpenTransactions: 1.5 }),
      'nifiSource.maxOpenTransactions',
    ],
    [
      () => new NiFiSource({ urls: 'http://h/nifi', portName: 'a', retry: { maxDelayMs: -1 } }),
      'nifiSource.retry.maxDelayMs',
    ],
    [() => new NiFiSource({ urls: 'http://h/nifi', portName: 'a', endWhenIdleMs: 0 }), 'nifiSource.endWhenIdleMs'],
    [() => new NiFiSource({ urls: 'http://h/nifi', portName: 'a', tls: { cert: 3 as never } }), 'nifiSource.tls.cert'],
    [() => new NiFiSink({ urls: 'http://h/nifi', portName: 'a' } as never), 'nifiSink.flowFile'],
    [
      () => new NiFiSink({ urls: 'http://h/nifi', portName: 'a', flowFile, batchDurationMs: -5 }),
      'nifiSink.batchDurationMs',
    ],
    [
      () => new NiFiSink({ urls: 'http://h/nifi', portName: 'a', flowFile, resendExpired: 'yes' as never }),
      'nifiSink.resendExpired',
    ],
  ]
  for (const [build, path] of cases) assert.is(configError(build).option, path)
})

test('a misspelt option suggests the right one, also inside tls', () => {
  assert.match(
    configError(() => new NiFiSource({ urls: 'http://h/nifi', portName: 'a', batchcount: 5 } as never)).message,
    /nifiSource\.batchcount.*did you mean batchCount\?/,
  )
  assert.match(
    configError(
      () => new NiFiSink({ urls: 'http://h/nifi', portName: 'a', flowFile, tls: { passphrse: 'x' } } as never),
    ).message,
    /nifiSink\.tls\.passphrse.*did you mean passphrase\?/,
  )
})

test('credentials never appear in a ConfigError: user info in a URL, a passphrase, a token', () => {
  const url = configError(() => new NiFiSource({ urls: 'http://admin:hunter2@h:8080/nifi', portName: 'a' }))
  assert.not.match(url.message, /hunter2/)
  const token = configError(() => new NiFiSource({ urls: 'http://h/nifi', portName: 'a', bearerToken: 42 as never }))
  assert.is(token.option, 'nifiSource.bearerToken')
  const pass = configError(
    () => new NiFiSource({ urls: 'https://h/nifi', portName: 'a', tls: { passphrase: 77 as never } }),
  )
  assert.is(pass.option, 'nifiSource.tls.passphrase')
  assert.not.match(pass.message, /77/)
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { inspect } from 'node:util'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { MqttSink } from '../../lib/connectors/mqtt/index.js'
import { ConfigError, ConnectorError, describeValue } from '../../lib/errors.js'
import { createLogger, type Logger } from '../../lib/logging.js'
import { isSecretKey, redactText } from '../../lib/util/redact.js'
import { freePort } from '../support/brokers.js'

test('URL user info is redacted, with or without a password', () => {
  assert.is(redactText('mqtt://alice:secret@127.0.0.1:1883/x'), 'mqtt://[redacted]@127.0.0.1:1883/x')
  assert.is(redactText('see https://ghp_TOKEN@github.com/a'), 'see https://[redacted]@github.com/a')
  assert.is(redactText('amqp://127.0.0.1:5672'), 'amqp://127.0.0.1:5672')
  assert.is(redactText('write to alice@example.org'), 'write to alice@example.org')
})

test('values of credential keys are redacted in JSON text and key=value text', () => {
  assert.is(
    redactText('{"user":"a","password":"x\\"y","saslPassword":"p","apiKey":12,"topic":"t"}'),
    '{"user":"a","password":"[redacted]","saslPassword":"[redacted]","apiKey":"[redacted]","topic":"t"}',
  )
  assert.is(
    redactText('host=db password=hunter2 passcode: 1234 secretAccessKey=AK/x&token=abc region=eu'),
    'host=db password=[redacted] passcode: [redacted] secretAccessKey=[redacted]&token=[redacted] region=eu',
  )
  assert.is(redactText('Authorization: Bearer abc.def'), 'Authorization: [redacted]')
  for (const key of ['password', 'passcode', 'secret', 'token', 'sasl', 'accessKey', 'secretAccessKey', 'apiKey'])
    assert.ok(isSecretKey(key), key)
  for (const key of ['authorization', 'credentials', 'sessionToken']) assert.ok(isSecretKey(key), key)
  for (const key of ['topic', 'url', 'username', 'parallelism', 'brokers']) assert.not.ok(isSecretKey(key), key)
})

test('describeValue redacts nested credentials and prints functions by name, also inside objects', () => {
  assert.is(
    describeValue({ url: 'redis://:pw@h:6379', auth: { password: 'x', user: 'u' }, serializer: function toJson() {} }),
    '{"url":"redis://[redacted]@h:6379","auth":{"password":"[redacted]","user":"u"},"serializer":"[function toJson]"}',
  )
  assert.is(
    describeValue(() => 1),
    '[function anonymous]',
  )
  assert.is(describeValue('mqtt://a:b@h'), '"mqtt://[redacted]@h"')
  class CountEveryTen {
    onElement() {}
  }
  assert.is(describeValue(new CountEveryTen()), '[CountEveryTen]', 'an instance says what it is, not {}')
  assert.is(describeValue({}), '{}')
})

test('a ConfigError never prints a Kafka SASL password: not the whole object, not the value of a password option', () => {
  const sasl = { mechanism: 'plain', username: 'app', password: 'hunter2' }
  const whole = new ConfigError('kafkaSource.sasl', sasl, 'a sasl mechanism of plain, scram-sha-256, scram-sha-512')
  const leaf = new ConfigError('kafkaSource.sasl.password', 'hunter2', 'a non-empty string')
  const parent = new ConfigError('kafkaSource', { brokers: ['b:9092'], sasl }, 'kafka source options')
  for (const error of [whole, leaf, parent]) {
    assert.not.match(error.message, 'hunter2')
    assert.not.match(inspect(error), 'hunter2')
    assert.match(error.message, '[redacted]')
  }
  assert.equal(whole.value, sasl, 'code still reads the value')
  assert.match(parent.message, '"brokers":["b:9092"]')
})

test('SluiceError messages and log lines are redacted where they are built', () => {
  const error = new ConnectorError('ERR_CONNECT', 'mqttSink mqtt://alice:secret@h:1883: refused')
  assert.is(error.message, 'mqttSink mqtt://[redacted]@h:1883: refused')
  const lines: string[] = []
  const log = createLogger({ level: 'info', write: (l) => lines.push(l) }).child({ url: 'amqp://u:p@h' })
  log.error('failed on amqp://u:p@h', {
    error: new Error('connect ECONNREFUSED mqtt://alice:secret@h'),
    options: { password: 'x', nested: { token: 't0k3n', port: 1 } },
  })
  assert.is(lines.length, 1)
  for (const secret of ['u:p@', 'alice:secret', '"x"', 't0k3n']) assert.not.match(lines[0]!, secret)
  assert.match(lines[0]!, '"port":1')
})

test("a logger of the user's own gets messages and fields redacted too", () => {
  const got: Array<[string, Record<string, unknown> | undefined]> = []
  const own: Logger = {
    debug: (m, f) => got.push([m, f]),
    info: (m, f) => got.push([m, f]),
    warn: (m, f) => got.push([m, f]),
    error: (m, f) => got.push([m, f]),
    child: () => own,
  }
  const env = StreamEnvironment.create({ logger: own })
  env.config.logger
    .child({ url: 'amqp://u:p@h' })
    .error('lost amqp://u:p@h', { error: new Error('refused by mqtt://alice:secret@h'), password: 'x' })
  assert.equal(got, [
    [
      'lost amqp://[redacted]@h',
      { error: { name: 'Error', message: 'refused by mqtt://[redacted]@h' }, password: '[redacted]' },
    ],
  ])
})

test('an MQTT URL with user info reaches neither the ConnectorError nor the "job failed" log line', async () => {
  const port = await freePort()
  const lines: string[] = []
  const env = StreamEnvironment.create({ logger: createLogger({ level: 'warn', write: (l) => lines.push(l) }) })
  env.fromCollection([1, 2, 3]).sinkTo(
    new MqttSink({
      url: `mqtt://alice:secret@127.0.0.1:${port}`,
      topic: 't',
      retry: { maxRetries: 1, initialDelayMs: 5 },
    }),
  )
  const error: Error = await env.execute().then(
    () => assert.unreachable('the broker is unreachable'),
    (e) => e,
  )
  assert.instance(error, ConnectorError, 'the job fails with the connector error itself')
  assert.match(error.message, `mqtt://[redacted]@127.0.0.1:${port}`)
  assert.not.match(error.message, 'secret')
  const failed = lines.find((l) => l.includes('"job failed"'))
  assert.ok(failed, 'a "job failed" line was logged')
  assert.match(failed!, '[redacted]@127.0.0.1')
  for (const line of lines) assert.not.match(line, 'alice:secret')
})

test.run()

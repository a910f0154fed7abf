import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { activemqSink, activemqSource } from '../../../lib/connectors/activemq/index.js'
import { mqttSink, mqttSource } from '../../../lib/connectors/mqtt/index.js'
import { rabbitmqSink, rabbitmqSource } from '../../../lib/connectors/rabbitmq/index.js'
import { redisSink, redisStreamSource } from '../../../lib/connectors/redis/index.js'
import { socketSink, socketTextStream } from '../../../lib/connectors/socket/index.js'
import { configError } from '../../support/config-error.js'

const mapper = { command: 'SET' as const, key: () => 'k', value: () => 'v' }

test('a misspelt option of a queue connector fails, naming it and suggesting the known key', () => {
  const cases: Array<[() => unknown, string, string]> = [
    [() => rabbitmqSource({ queue: 'q', prefetchCount: 10 } as never), 'rabbitmqSource.prefetchCount', 'prefetch'],
    [
      () => rabbitmqSink({ exchange: '', routingKey: 'q', maxInflight: 1 } as never),
      'rabbitmqSink.maxInflight',
      'maxInFlight',
    ],
    [() => activemqSource({ destination: '/queue/q', prefech: 1 } as never), 'activemqSource.prefech', 'prefetch'],
    [
      () => activemqSink({ destination: '/queue/q', persistant: true } as never),
      'activemqSink.persistant',
      'persistent',
    ],
    [
      () => mqttSource({ url: 'mqtt://127.0.0.1:1883', topics: 't', clientId: 'c', Qos: 1 } as never),
      'mqttSource.Qos',
      'qos',
    ],
    [
      () => mqttSink({ url: 'mqtt://127.0.0.1:1883', topic: 't', retained: true } as never),
      'mqttSink.retained',
      'retain',
    ],
    [
      () => redisStreamSource({ stream: 's', group: 'g', batchsize: 5 } as never),
      'redisStreamSource.batchsize',
      'batchSize',
    ],
    [() => redisSink({ mapper, lingerMS: 5 } as never), 'redisSink.lingerMS', 'lingerMs'],
    [() => socketTextStream('localhost', 9999, { delimeter: ',' } as never), 'socketTextStream.delimeter', 'delimiter'],
    [() => socketSink('localhost', 9999, { serialiser: String } as never), 'socketSink.serialiser', 'serializer'],
  ]
  for (const [build, option, suggestion] of cases) {
    const error = configError(build)
    assert.is(error.option, option)
    assert.match(error.message, `did you mean ${suggestion}?`)
  }
})

test('the retry options, nested and the deprecated flat names, are known to every queue connector', () => {
  const retry = {
    retry: { maxRetries: 1, initialDelayMs: 5, maxDelayMs: 50, multiplier: 3, jitter: 0.1 },
    connectTimeoutMs: 100,
  }
  assert.is(rabbitmqSource({ queue: 'q', ...retry }).settings.retry.multiplier, 3)
  assert.is(activemqSource({ destination: '/queue/q', ...retry }).settings.retry.maxDelayMs, 50)
  assert.is(
    mqttSource({ url: 'mqtt://127.0.0.1:1883', topics: 't', clientId: 'c', ...retry }).settings.retry.jitter,
    0.1,
  )
  assert.is(redisStreamSource({ stream: 's', group: 'g', ...retry }).settings.retry.initialDelayMs, 5)
  assert.is(socketTextStream('localhost', 9999, retry).retry.connectTimeoutMs, 100)
  const old = rabbitmqSource({ queue: 'q', retryDelayMs: 7, maxRetryDelayMs: 70 }).settings.retry
  assert.equal([old.initialDelayMs, old.maxDelayMs], [7, 70])
})

test('an old retry name beside its new name fails, naming both', () => {
  const error = configError(() => rabbitmqSink({ exchange: '', routingKey: 'q', retryDelayMs: 1, initialDelayMs: 2 }))
  assert.is(error.option, 'rabbitmqSink.retryDelayMs')
  assert.match(error.message, 'rabbitmqSink.initialDelayMs')
})

test.run()

import * as assert from 'uvu/assert'
import { suite } from 'uvu'
import { kafkaSink, kafkaSource } from '../../../lib/connectors/kafka/index.js'
import { ConnectorError } from '../../../lib/errors.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { closedPort, configErrorMessage, startFailure } from '../../support/connector-checks.js'

const Connect = suite('kafka connection and options')

Connect(
  'an unreachable broker fails the source with ERR_CONNECT naming brokers and topics, after its retries',
  async () => {
    const port = await closedPort()
    const brokers = [`127.0.0.1:${port}`]
    const retried: number[] = []
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (msg: string, fields?: Record<string, unknown>) => {
        if (msg === 'cannot connect; trying again') retried.push(fields?.retry as number)
      },
      child() {
        return logger
      },
    }
    // kafkajs's own retries off, so each of ours is one connection attempt.
    const source = kafkaSource({
      client: { brokers, retry: { retries: 0 } },
      topics: 'orders',
      retry: { maxRetries: 2, initialDelayMs: 1 },
    })
    const reader = source.createReader({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime, logger })
    const e = await startFailure(reader)
    assert.instance(e, ConnectorError)
    assert.is(e.code, 'ERR_CONNECT')
    assert.match(
      e.message,
      `kafka source: brokers 127.0.0.1:${port} (topics orders): cannot connect after 3 attempt(s)`,
    )
    assert.match(e.message, 'ECONNREFUSED')
    assert.equal(retried, [1, 2])
  },
)

Connect('a misspelt option is refused, suggesting the known one', () => {
  assert.match(
    configErrorMessage(() => kafkaSource({ brokers: ['h:1'], topics: 'a', groupID: 'g' } as never)),
    'kafkaSource.groupID: "g" (expected no such option; did you mean groupId?)',
  )
  assert.match(
    configErrorMessage(() => kafkaSink({ brokers: ['h:1'], topic: 'a', lingerMS: 5 } as never)),
    'did you mean lingerMs?',
  )
  assert.match(
    configErrorMessage(() => kafkaSource({ brokers: ['h:1'], topics: 'a', retry: { maxDelay: 5 } } as never)),
    'kafkaSource.retry.maxDelay',
  )
})

Connect.run()

import * as assert from 'uvu/assert'
import { suite } from 'uvu'
import { kinesisSink, kinesisSource } from '../../../lib/connectors/kinesis/index.js'
import { ConnectorError } from '../../../lib/errors.js'
import { createLogger } from '../../../lib/logging.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { closedPort, configErrorMessage, startFailure } from '../../support/connector-checks.js'
import { credentials } from './support.js'

const Connect = suite('kinesis connection and options')

Connect(
  'an unreachable endpoint fails the source with ERR_CONNECT naming endpoint and stream, after its retries',
  async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`
    const source = kinesisSource({
      client: credentials,
      endpoint,
      stream: 'orders',
      retry: { maxRetries: 2, initialDelayMs: 1 },
    })
    const reader = source.createReader({
      subtask: 0,
      parallelism: 1,
      processingTime: systemProcessingTime,
      logger: createLogger({ level: 'error' }),
    })
    const e = await startFailure(reader)
    assert.instance(e, ConnectorError)
    assert.is(e.code, 'ERR_CONNECT')
    assert.match(e.message, `kinesis source: stream orders at endpoint ${endpoint}: cannot connect after 3 attempt(s)`)
    assert.match(e.message, 'ECONNREFUSED')
  },
)

Connect('a misspelt option is refused, suggesting the known one', () => {
  assert.match(
    configErrorMessage(() => kinesisSource({ region: 'r', stream: 's', maxBufferedRecord: 5 } as never)),
    'kinesisSource.maxBufferedRecord: 5 (expected no such option; did you mean maxBufferedRecords?)',
  )
  assert.match(
    configErrorMessage(() => kinesisSink({ region: 'r', stream: 's', serializer: String, linger: 5 } as never)),
    'kinesisSink.linger',
  )
})

Connect.run()

import { createServer } from 'node:net'
import * as assert from 'uvu/assert'
import { suite } from 'uvu'
import { kinesisSink, kinesisSource } from '../../../lib/connectors/kinesis/index.js'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { createLogger } from '../../../lib/logging.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { credentials } from './support.js'

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

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
    try {
      await reader.start()
      assert.unreachable('start should fail')
    } catch (error) {
      assert.instance(error, ConnectorError)
      const e = error as ConnectorError
      assert.is(e.code, 'ERR_CONNECT')
      assert.match(
        e.message,
        `kinesis source: stream orders at endpoint ${endpoint}: cannot connect after 3 attempt(s)`,
      )
      assert.match(e.message, 'ECONNREFUSED')
    } finally {
      reader.close()
    }
  },
)

Connect('a misspelt option is refused, suggesting the known one', () => {
  const message = (f: () => unknown): string => {
    try {
      f()
    } catch (e) {
      return e instanceof ConfigError ? e.message : `not a ConfigError: ${String(e)}`
    }
    return 'accepted'
  }
  assert.match(
    message(() => kinesisSource({ region: 'r', stream: 's', maxBufferedRecord: 5 } as never)),
    'kinesisSource.maxBufferedRecord: 5 (expected no such option; did you mean maxBufferedRecords?)',
  )
  assert.match(
    message(() => kinesisSink({ region: 'r', stream: 's', serializer: String, linger: 5 } as never)),
    'kinesisSink.linger',
  )
})

Connect.run()

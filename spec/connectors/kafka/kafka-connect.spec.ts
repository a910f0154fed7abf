import { createServer } from 'node:net'
import * as assert from 'uvu/assert'
import { suite } from 'uvu'
import { kafkaSink, kafkaSource } from '../../../lib/connectors/kafka/index.js'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

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
    try {
      await reader.start()
      assert.unreachable('start should fail')
    } catch (error) {
      assert.instance(error, ConnectorError)
      const e = error as ConnectorError
      assert.is(e.code, 'ERR_CONNECT')
      assert.match(
        e.message,
        `kafka source: brokers 127.0.0.1:${port} (topics orders): cannot connect after 3 attempt(s)`,
      )
      assert.match(e.message, 'ECONNREFUSED')
      assert.equal(retried, [1, 2])
    } finally {
      await reader.close()
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
    message(() => kafkaSource({ brokers: ['h:1'], topics: 'a', groupID: 'g' } as never)),
    'kafkaSource.groupID: "g" (expected no such option; did you mean groupId?)',
  )
  assert.match(
    message(() => kafkaSink({ brokers: ['h:1'], topic: 'a', lingerMS: 5 } as never)),
    'did you mean lingerMs?',
  )
  assert.match(
    message(() => kafkaSource({ brokers: ['h:1'], topics: 'a', retry: { maxDelay: 5 } } as never)),
    'kafkaSource.retry.maxDelay',
  )
})

Connect.run()

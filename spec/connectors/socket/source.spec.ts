import type { Socket } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SocketTextSource } from '../../../lib/connectors/socket/source.js'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { SourceDriver } from '../../support/drive-source.js'
import { TestTcpServer } from '../../support/tcp-server.js'
import { waitFor } from '../../support/wait-for.js'

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Writes the pieces one event-loop turn apart, so they tend to reach the client as separate chunks. */
async function writePieces(socket: Socket, pieces: Array<string | Buffer>): Promise<void> {
  for (const piece of pieces) {
    socket.write(piece)
    await nextTurn()
  }
}

test('cuts lines at a multi-character delimiter across chunks and ends when the server closes (maxRetries 0)', async () => {
  const umlauts = Buffer.from('ünï')
  const server = await TestTcpServer.start((socket) => {
    void writePieces(socket, [
      'one<EO',
      'L>two<',
      'EOL><EOL>th',
      umlauts.subarray(0, 1),
      umlauts.subarray(1),
      'ree<EOL>',
      'last without delimiter',
    ]).then(() => socket.end())
  })
  const driver = await SourceDriver.start(
    new SocketTextSource('127.0.0.1', server.port, { delimiter: '<EOL>', retry: { maxRetries: 0 } }),
  )
  try {
    assert.is(await driver.run(), 'end')
    assert.equal(driver.records, ['one', 'two', '', 'thünïree', 'last without delimiter'])
    assert.equal(driver.snapshot(), [], 'at-most-once: no position to restore')
  } finally {
    await driver.close()
    await server.stop()
  }
})

test('reconnects after the server drops the connection and comes back, losing no line sent after', async () => {
  const lines = Array.from({ length: 500 }, (_, i) => `after ${i}`)
  let connection = 0
  const server = await TestTcpServer.start((socket) => {
    connection++
    if (connection === 1) socket.write('before 1\nbefore 2\n')
    else socket.end(`${lines.join('\n')}\n`)
  })
  const source = new SocketTextSource('127.0.0.1', server.port, {
    retry: { maxRetries: 100, initialDelayMs: 5, maxDelayMs: 20 },
  })
  const driver = await SourceDriver.start(source)
  try {
    await driver.run({ maxRecords: 2 })
    await server.stop()
    await waitFor(() => !driver.reader.isConnected, { description: 'the reader noticed the drop' })
    await server.listen()
    await driver.run({ until: (records) => records.includes('after 499') })
    assert.equal(driver.records, ['before 1', 'before 2', ...lines])
    assert.is(driver.reader.connections, 2)
  } finally {
    await driver.close()
    await server.stop()
  }
})

test('fails with ConnectorError naming host:port and the attempts once the retries are used up', async () => {
  const server = await TestTcpServer.start()
  const port = server.port
  await server.stop() // nothing listens there any more
  const driver = await SourceDriver.start(
    new SocketTextSource('127.0.0.1', port, { retry: { maxRetries: 2, initialDelayMs: 5 } }),
  )
  try {
    await driver.run()
    assert.unreachable('the source fails')
  } catch (error) {
    assert.instance(error, ConnectorError)
    const failure = error as ConnectorError
    assert.is(failure.code, 'ERR_CONNECT')
    assert.is(failure.retriable, true)
    assert.match(failure.message, `127.0.0.1:${port}`)
    assert.match(failure.message, '3 attempts')
  } finally {
    await driver.close()
  }
})

test('hands out the lines received before a drop, then fails when reconnecting is not possible', async () => {
  const server = await TestTcpServer.start((socket) => socket.write('only line\n'))
  const driver = await SourceDriver.start(
    new SocketTextSource('127.0.0.1', server.port, { retry: { maxRetries: 1, initialDelayMs: 5 } }),
  )
  try {
    await driver.run({ maxRecords: 1 })
    await server.stop()
    await driver.run()
    assert.unreachable('the source fails')
  } catch (error) {
    assert.instance(error, ConnectorError)
    assert.is((error as ConnectorError).code, 'ERR_CONNECT')
    assert.equal(driver.records, ['only line'])
  } finally {
    await driver.close()
  }
})

test('pauses the socket when maxBufferedLines are held, so the server feels the backpressure', async () => {
  const total = 200_000
  const maxBufferedLines = 256
  let written = 0
  let waitingForDrain = false
  const server = await TestTcpServer.start((socket) => {
    void (async () => {
      for (let i = 0; i < total; i++) {
        written++
        if (!socket.write(`line ${String(i).padStart(6, '0')} ${'.'.repeat(30)}\n`)) {
          waitingForDrain = true
          await new Promise((resolve) => socket.once('drain', resolve))
          waitingForDrain = false
        }
      }
      socket.end()
    })()
  })
  const driver = await SourceDriver.start(
    new SocketTextSource('127.0.0.1', server.port, { maxBufferedLines, retry: { maxRetries: 0 } }),
  )
  try {
    // Nobody polls yet: the reader must stop reading, and the server's write() must return false.
    await waitFor(() => driver.reader.paused && waitingForDrain, {
      timeoutMs: 5000,
      description: "the reader paused and the server's write() returned false",
    })
    assert.ok(driver.reader.bufferedLines <= maxBufferedLines, `held ${driver.reader.bufferedLines} lines`)
    assert.ok(written < total, `the server is held back (${written} of ${total} lines written)`)

    let maxBuffered = 0
    let polls = 0
    await driver.run({
      timeoutMs: 8000,
      afterPoll: async () => {
        maxBuffered = Math.max(maxBuffered, driver.reader.bufferedLines)
        // A slow consumer: yield to the event loop every 64 records so the socket keeps refilling.
        if (++polls % 64 === 0) await nextTurn()
      },
    })
    assert.is(driver.records.length, total)
    assert.ok(
      driver.records.every((line, i) => line.startsWith(`line ${String(i).padStart(6, '0')} `)),
      'every line, in order',
    )
    assert.ok(maxBuffered <= maxBufferedLines, `never more than ${maxBufferedLines} lines held (max ${maxBuffered})`)
    assert.ok(driver.reader.pauseCount >= 2, `paused and resumed repeatedly (${driver.reader.pauseCount} pauses)`)
  } finally {
    await driver.close()
    await server.stop()
  }
})

test('fails with ERR_LINE_TOO_LONG when a line outgrows maxLineLength', async () => {
  const server = await TestTcpServer.start((socket) => socket.write(`ok\n${'x'.repeat(5000)}`))
  const driver = await SourceDriver.start(
    new SocketTextSource('127.0.0.1', server.port, { maxLineLength: 1000, retry: { maxRetries: 0 } }),
  )
  try {
    await driver.run()
    assert.unreachable('the source fails')
  } catch (error) {
    assert.instance(error, ConnectorError)
    assert.is((error as ConnectorError).code, 'ERR_LINE_TOO_LONG')
    assert.equal(driver.records, ['ok'])
  } finally {
    await driver.close()
    await server.stop()
  }
})

test('rejects bad options, naming the option', () => {
  const rejects = (make: () => unknown, option: string) =>
    assert.throws(make, (e: unknown) => e instanceof ConfigError && e.option === option)
  rejects(() => new SocketTextSource('', 9999), 'socketTextStream.host')
  rejects(() => new SocketTextSource('localhost', 0), 'socketTextStream.port')
  rejects(() => new SocketTextSource('localhost', 70_000), 'socketTextStream.port')
  rejects(() => new SocketTextSource('localhost', '9999' as never), 'socketTextStream.port')
  rejects(() => new SocketTextSource('localhost', 9999, { delimiter: '' }), 'socketTextStream.delimiter')
  rejects(
    () => new SocketTextSource('localhost', 9999, { retry: { maxRetries: -1 } }),
    'socketTextStream.retry.maxRetries',
  )
  rejects(
    () => new SocketTextSource('localhost', 9999, { retry: { maxRetries: 1.5 } }),
    'socketTextStream.retry.maxRetries',
  )
  rejects(
    () => new SocketTextSource('localhost', 9999, { retry: { initialDelayMs: 100, maxDelayMs: 50 } }),
    'socketTextStream.retry.maxDelayMs',
  )
  rejects(() => new SocketTextSource('localhost', 9999, { maxBufferedLines: 0 }), 'socketTextStream.maxBufferedLines')
  rejects(() => new SocketTextSource('localhost', 9999, { encoding: 'klingon' as never }), 'socketTextStream.encoding')
  assert.is(new SocketTextSource('localhost', 9999, { retry: { maxRetries: Infinity } }).retry.maxRetries, Infinity)
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { socketSink, socketTextStream } from '../../../lib/connectors/socket/index.js'
import { SocketSink } from '../../../lib/connectors/socket/sink.js'
import { SocketTextSource } from '../../../lib/connectors/socket/source.js'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { TestTcpServer } from '../../support/tcp-server.js'
import { settlesWithin, waitFor } from '../../support/wait-for.js'

const context = { subtask: 0, parallelism: 1, processingTime: systemProcessingTime }

test('the server receives every record, in order, as String(value) + newline', async () => {
  const server = await TestTcpServer.start()
  const writer = new SocketSink<number>('127.0.0.1', server.port).createWriter(context)
  try {
    const values = Array.from({ length: 10_000 }, (_, i) => i)
    for (const value of values) {
      writer.write(value, undefined)
      const ready = writer.ready()
      if (ready !== undefined) await ready
    }
    await writer.flush()
    await writer.close()
    const expected = `${values.join('\n')}\n`
    await waitFor(() => server.received.length >= expected.length, { description: 'all bytes arrived' })
    assert.is(server.received, expected)
  } finally {
    await server.stop()
  }
})

test('uses the serializer, which may return bytes', async () => {
  const server = await TestTcpServer.start()
  const writer = new SocketSink<{ id: number }>('127.0.0.1', server.port, {
    serializer: (e) => Buffer.from(`${JSON.stringify(e)}\r\n`),
  }).createWriter(context)
  try {
    writer.write({ id: 1 }, undefined)
    writer.write({ id: 2 }, undefined)
    await writer.close()
    await waitFor(() => server.received === '{"id":1}\r\n{"id":2}\r\n', { description: 'both records arrived' })
  } finally {
    await server.stop()
  }
})

test('ready() waits while the socket cannot take more, and resolves when the server reads again', async () => {
  const server = await TestTcpServer.start((socket) => socket.pause())
  const writer = new SocketSink<string>('127.0.0.1', server.port).createWriter(context)
  try {
    await settlesWithin(writer.ready() ?? Promise.resolve(), { description: 'connected' })
    const record = 'x'.repeat(1000)
    let written = 0
    while (writer.ready() === undefined && written < 100_000) {
      writer.write(record, undefined)
      written++
    }
    const ready = writer.ready()
    assert.instance(ready, Promise, `backpressure after ${written} records`)
    let resolved = false
    void ready!.then(() => {
      resolved = true
    })
    await waitFor(() => server.sockets.size === 1)
    assert.is(resolved, false, 'still waiting while the server does not read')
    for (const socket of server.sockets) socket.resume()
    await settlesWithin(ready!, { description: 'ready() resolved after the server read' })
    await writer.close()
    const expectedLength = written * (record.length + 1)
    await waitFor(() => server.received.length >= expectedLength, {
      timeoutMs: 5000,
      description: 'all records arrived',
    })
    assert.is(server.received.length, expectedLength)
  } finally {
    await server.stop()
  }
})

test('reconnects after the server drops the connection; ready() waits meanwhile and later records arrive', async () => {
  const server = await TestTcpServer.start()
  const writer = new SocketSink<string>('127.0.0.1', server.port, {
    retry: { maxRetries: 100, initialDelayMs: 5, maxDelayMs: 20 },
  }).createWriter(context)
  try {
    writer.write('first', undefined)
    await settlesWithin(writer.flush(), { description: 'first record sent' })
    await waitFor(() => server.received === 'first\n')
    await server.stop()
    await waitFor(() => !writer.isConnected, { description: 'the writer noticed the drop' })
    writer.write('second', undefined)
    writer.write('third', undefined)
    const ready = writer.ready()
    assert.instance(ready, Promise, 'no records while reconnecting')
    await server.listen()
    await settlesWithin(ready!, { description: 'reconnected' })
    await settlesWithin(writer.flush(), { description: 'flushed after reconnecting' })
    await waitFor(() => server.received === 'first\nsecond\nthird\n', {
      description: 'records after the reconnection arrived',
    })
    assert.is(writer.connections, 2)
    await writer.close()
  } finally {
    await server.stop()
  }
})

test('fails with ConnectorError naming host:port once the retries are used up', async () => {
  const server = await TestTcpServer.start()
  const port = server.port
  await server.stop()
  const writer = new SocketSink<string>('127.0.0.1', port, {
    retry: { maxRetries: 1, initialDelayMs: 5 },
  }).createWriter(context)
  writer.write('lost', undefined)
  try {
    await settlesWithin(writer.ready() ?? Promise.resolve(), { description: 'ready() settles' })
    assert.unreachable('ready() rejects')
  } catch (error) {
    assert.instance(error, ConnectorError)
    assert.is((error as ConnectorError).code, 'ERR_CONNECT')
    assert.match((error as Error).message, `127.0.0.1:${port}`)
    assert.match((error as Error).message, '2 attempts')
  }
  assert.throws(
    () => writer.write('more', undefined),
    (e: unknown) => e instanceof ConnectorError,
  )
  try {
    await writer.flush()
    assert.unreachable('flush() rejects')
  } catch (error) {
    assert.instance(error, ConnectorError)
  }
})

test('socketSink() and socketTextStream() make the sink and the source with their options', () => {
  const sink = socketSink<string>('127.0.0.1', 9999, { retry: { maxRetries: 0 } })
  assert.instance(sink, SocketSink)
  assert.is(sink.retry.maxRetries, 0)
  const source = socketTextStream('127.0.0.1', 9999, { delimiter: ';' })
  assert.instance(source, SocketTextSource)
  assert.is(source.delimiter, ';')
  assert.is(source.maxParallelism, 1)
})

test('rejects bad options, naming the option', () => {
  const rejects = (make: () => unknown, option: string) =>
    assert.throws(make, (e: unknown) => e instanceof ConfigError && e.option === option)
  rejects(() => new SocketSink('', 1), 'socketSink.host')
  rejects(() => new SocketSink('localhost', -1), 'socketSink.port')
  rejects(() => new SocketSink('localhost', 9999, { serializer: 'json' as never }), 'socketSink.serializer')
  rejects(() => new SocketSink('localhost', 9999, { retry: { maxRetries: Number.NaN } }), 'socketSink.retry.maxRetries')
  rejects(() => new SocketSink('localhost', 9999, { retry: { initialDelayMs: -5 } }), 'socketSink.retry.initialDelayMs')
})

test.run()

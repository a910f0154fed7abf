import { connect, type Socket } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { TcpServerSource, type TcpServerSourceOptions } from '../../../lib/connectors/tcp-server/index.js'
import { ConfigError } from '../../../lib/errors.js'
import type { DeadLetter } from '../../../lib/runtime/output-tag.js'
import type { SourceOutput } from '../../../lib/runtime/source.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { waitFor } from '../../support/wait-for.js'

const Tcp = suite('tcp server source')

async function open<T>(options: TcpServerSourceOptions<T>) {
  const source = new TcpServerSource<T>(options)
  const letters: DeadLetter[] = []
  const reader = source.createReader({
    subtask: 0,
    parallelism: 1,
    processingTime: systemProcessingTime,
    deadLetter: (l) => letters.push(l),
  })
  await reader.start()
  const records: T[] = []
  const output: SourceOutput<T> = { collect: (v) => void records.push(v), emitWatermark: () => {}, markIdle: () => {} }
  /** Polls at most `max` records. */
  const poll = (max = Number.POSITIVE_INFINITY): void => {
    for (let n = 0; n < max && reader.pollNext(output) === 'more'; n++);
  }
  return { source, reader, records, letters, poll, port: source.address!.port }
}

const client = (port: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket))
    socket.once('error', reject)
  })

Tcp('options: unknown keys and bad values fail at build time naming the option', () => {
  const fails = (options: object, path: string) =>
    assert.throws(
      () => new TcpServerSource(options as TcpServerSourceOptions<string>),
      (e: unknown) => e instanceof ConfigError && e.message.includes(path),
      path,
    )
  fails({ framing: 'json' }, 'tcpServerSource.framing')
  fails({ maxFrameBytes: 0 }, 'tcpServerSource.maxFrameBytes')
  fails({ idleTimout: 5 }, 'tcpServerSource.idleTimout')
  fails({ tls: 'yes' }, 'tcpServerSource.tls')
  assert.is(new TcpServerSource().settings.host, '127.0.0.1')
})

Tcp('200 concurrent connections: every line of every one arrives', async () => {
  const r = await open<string>({})
  const clients = 200
  const lines = 20
  try {
    const sockets = await Promise.all(Array.from({ length: clients }, () => client(r.port)))
    sockets.forEach((socket, c) => {
      let text = ''
      for (let i = 0; i < lines; i++) text += `${c}-${i}\n`
      socket.end(text)
    })
    await waitFor(
      () => {
        r.poll()
        return r.records.length === clients * lines
      },
      { timeoutMs: 10_000, description: () => `${r.records.length} of ${clients * lines}` },
    )
    assert.is(new Set(r.records).size, clients * lines)
    assert.is(r.source.stats.connections, clients)
  } finally {
    await r.reader.close()
  }
})

Tcp(
  'a full buffer pauses every connection: memory stays bounded while clients push more, and nothing is lost',
  async () => {
    const maxBufferedRecords = 100
    const r = await open<string>({ maxBufferedRecords })
    const clients = 4
    const lines = 20_000
    try {
      const sockets = await Promise.all(Array.from({ length: clients }, () => client(r.port)))
      const sent = sockets.map(
        (socket, c) =>
          new Promise<void>((resolve) => {
            let text = ''
            for (let i = 0; i < lines; i++) text += `client-${c}-line-${String(i).padStart(6, '0')}\n`
            socket.end(text, () => resolve())
          }),
      )
      await waitFor(() => r.reader.isPaused, { description: 'paused' })
      // a slow job: a few records per event-loop turn
      let most = 0
      await waitFor(
        () => {
          most = Math.max(most, r.reader.bufferedRecords)
          r.poll(50)
          return r.records.length === clients * lines
        },
        { timeoutMs: 30_000, intervalMs: 0, description: () => `${r.records.length} of ${clients * lines}` },
      )
      await Promise.all(sent)
      // one 64 KiB read per connection may land beyond the limit: 64 KiB / 26-byte lines each
      const bound = maxBufferedRecords + clients * Math.ceil(65_536 / 26)
      assert.ok(most <= bound, `at most ${most} records buffered (bound ${bound}, sent ${clients * lines})`)
      assert.ok(r.source.stats.pauses > 1, `paused ${r.source.stats.pauses} times`)
      assert.is(new Set(r.records).size, clients * lines)
    } finally {
      await r.reader.close()
    }
  },
)

Tcp(
  'an oversized frame closes its connection with a dead letter; a refused frame is a dead letter; others go on',
  async () => {
    const r = await open<number>({
      maxFrameBytes: 8,
      decoder: (frame) => {
        const n = Number(frame.toString())
        if (Number.isNaN(n)) throw new Error(`not a number: ${frame.toString()}`)
        return n
      },
    })
    try {
      const bad = await client(r.port)
      const good = await client(r.port)
      const closed = new Promise<void>((resolve) => bad.on('close', () => resolve()))
      bad.on('error', () => {})
      bad.write('1\n123456789012\n')
      await closed
      good.write('2\nx\n3\n')
      await waitFor(() => {
        r.poll()
        return r.records.length === 3
      })
      assert.equal(r.records, [1, 2, 3])
      assert.equal(
        r.letters.map((l) => l.reason),
        ['frame of 12 bytes or more exceeds maxFrameBytes (8)', 'not a number: x'],
      )
      assert.is(r.source.stats.oversized, 1)
      assert.is(r.source.stats.badFrames, 1)
      good.destroy()
    } finally {
      await r.reader.close()
    }
  },
)

Tcp(
  'slowloris: a connection silent for idleTimeoutMs is closed; connections beyond maxConnections are refused',
  async () => {
    const r = await open<string>({ idleTimeoutMs: 100, maxConnections: 2 })
    try {
      const slow = await client(r.port)
      slow.write('half a li')
      const closed = await new Promise<boolean>((resolve) => slow.on('close', () => resolve(true)))
      assert.ok(closed)
      assert.is(r.source.stats.idleClosed, 1)
      const a = await client(r.port)
      const b = await client(r.port)
      await waitFor(() => r.reader.connections === 2)
      const third = await client(r.port)
      await new Promise<void>((resolve) => third.on('close', () => resolve()))
      assert.is(r.reader.connections, 2)
      a.destroy()
      b.destroy()
    } finally {
      await r.reader.close()
    }
  },
)

Tcp('a connection its client closed frees its place under maxConnections for the next one', async () => {
  const r = await open<string>({ maxConnections: 1 })
  try {
    const first = await client(r.port)
    first.end('one\n')
    await new Promise<void>((resolve) => first.on('close', () => resolve()))
    await waitFor(() => r.reader.connections === 0, { description: () => `${r.reader.connections} connections` })
    const second = await client(r.port)
    second.end('two\n')
    await waitFor(
      () => {
        r.poll()
        return r.records.length === 2
      },
      { description: () => JSON.stringify(r.records) },
    )
    assert.equal(r.records, ['one', 'two'])
  } finally {
    await r.reader.close()
  }
})

Tcp('length-prefixed frames a decoder keeps as Buffers stay intact while later bytes arrive', async () => {
  const r = await open<Buffer>({ framing: 'length-prefixed', decoder: (frame) => frame as Buffer })
  const frame = (text: string): Buffer => {
    const body = Buffer.from(text)
    const head = Buffer.alloc(4)
    head.writeUInt32BE(body.length)
    return Buffer.concat([head, body])
  }
  try {
    const a = await client(r.port)
    const b = await client(r.port)
    const frames = 2_000
    for (let i = 0; i < frames; i++) (i % 2 === 0 ? a : b).write(frame(`frame-${i}`))
    a.end()
    b.end()
    await waitFor(
      () => {
        r.poll()
        return r.records.length === frames
      },
      { timeoutMs: 10_000, description: () => `${r.records.length} of ${frames}` },
    )
    const texts = new Set(r.records.map((f) => f.toString()))
    for (let i = 0; i < frames; i++) assert.ok(texts.has(`frame-${i}`), `frame-${i}`)
  } finally {
    await r.reader.close()
  }
})

Tcp.run()

import { Writable } from 'node:stream'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { printSink } from '../../../lib/connectors/print/index.js'
import { linePrefix, PrintSink } from '../../../lib/connectors/print/print-sink.js'
import { ConfigError } from '../../../lib/errors.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'

const context = (subtask: number, parallelism: number) => ({
  subtask,
  parallelism,
  processingTime: systemProcessingTime,
})

test('prefixes lines with the 1-based subtask at parallelism 2, as Flink prints them', async () => {
  const lines: string[] = []
  const sink = new PrintSink<string>({ write: (line) => lines.push(line) })
  const writers = [sink.createWriter(context(0, 2)), sink.createWriter(context(1, 2))]
  writers[0]!.write('a', undefined)
  writers[1]!.write('b', undefined)
  writers[0]!.write('c', undefined)
  await Promise.all(writers.map((w) => w.close()))
  assert.equal(lines, ['1> a', '2> b', '1> c'])
})

test('prints no prefix at parallelism 1', () => {
  const lines: string[] = []
  const writer = new PrintSink<string>({ write: (line) => lines.push(line) }).createWriter(context(0, 1))
  writer.write('alone', undefined)
  assert.equal(lines, ['alone'])
})

test('puts a user prefix before the subtask, or alone at parallelism 1', () => {
  const lines: string[] = []
  const sink = new PrintSink<string>({ prefix: 'counts', write: (line) => lines.push(line) })
  sink.createWriter(context(1, 3)).write('x', undefined)
  sink.createWriter(context(0, 1)).write('y', undefined)
  assert.equal(lines, ['counts:2> x', 'counts> y'])
  assert.equal(
    [linePrefix('', 0, 1), linePrefix('', 3, 4), linePrefix('p', 0, 2), linePrefix('p', 0, 1)],
    ['', '4> ', 'p:1> ', 'p> '],
  )
})

test('prints objects and arrays as JSON, strings as they are, other values through String', () => {
  const lines: string[] = []
  const writer = new PrintSink<unknown>({ write: (line) => lines.push(line) }).createWriter(context(0, 1))
  for (const value of ['text', { word: 'a', count: 1 }, [1, 'b'], 3.5, 10n, { big: 2n }, null, undefined])
    writer.write(value, undefined)
  assert.equal(lines, ['text', '{"word":"a","count":1}', '[1,"b"]', '3.5', '10', '{"big":"2"}', 'null', 'undefined'])
})

test('writes newline-terminated lines to a stream and waits in ready() while the stream is full', async () => {
  let release: (() => void) | undefined
  const chunks: string[] = []
  // A slow stream: each write completes only when the test says so.
  const slow = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString())
      release = callback
    },
  })
  const writer = new PrintSink<string>({ target: slow }).createWriter(context(0, 2))
  assert.is(writer.ready?.(), undefined)
  writer.write('a line longer than the stream buffer', undefined)
  const ready = writer.ready?.()
  assert.instance(ready, Promise, 'ready() is a promise while write() returned false')
  let resolved = false
  void ready!.then(() => {
    resolved = true
  })
  await new Promise((resolve) => setImmediate(resolve))
  assert.is(resolved, false, 'still waiting for the drain')
  release!()
  await ready
  assert.is(writer.ready?.(), undefined)
  assert.equal(chunks, ['1> a line longer than the stream buffer\n'])
})

test('printSink() makes a PrintSink; target stderr is printToErr()', () => {
  const sink = printSink<string>({ target: 'stderr', prefix: 'err' })
  assert.instance(sink, PrintSink)
  assert.is(sink.prefix, 'err')
  assert.is(sink.guarantee, 'at-least-once')
})

test('rejects bad options, naming the option', () => {
  assert.throws(
    () => new PrintSink({ target: 'stdlog' as never }),
    (e: unknown) => e instanceof ConfigError && e.option === 'printSink.target',
  )
  assert.throws(
    () => new PrintSink({ prefix: 3 as never }),
    (e: unknown) => e instanceof ConfigError && e.option === 'printSink.prefix',
  )
  assert.throws(
    () => new PrintSink({ write: 'console' as never }),
    (e: unknown) => e instanceof ConfigError && e.option === 'printSink.write',
  )
})

test.run()

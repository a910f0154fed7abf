import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DelimitedLineBuffer } from '../../../lib/connectors/socket/delimited-line-buffer.js'

function takeAll(buffer: DelimitedLineBuffer): string[] {
  const lines: string[] = []
  for (let line = buffer.take(); line !== undefined; line = buffer.take()) lines.push(line)
  return lines
}

test('cuts at a multi-character delimiter split across appended chunks', () => {
  const buffer = new DelimitedLineBuffer('<EOL>', 100, 1000)
  for (const chunk of ['one<E', 'OL>tw', 'o<', 'EOL', '><EOL>thr', 'ee<EOL', '>fou']) buffer.append(chunk)
  assert.equal(takeAll(buffer), ['one', 'two', '', 'three'])
  assert.is(buffer.uncutLength, 3, "'fou' waits for its delimiter")
  buffer.terminate()
  assert.equal(takeAll(buffer), ['fou'], 'terminate() ends the partial line')
})

test('holds at most maxLines cut lines and cuts the rest after some are taken', () => {
  const buffer = new DelimitedLineBuffer('\n', 3, 1000)
  buffer.append('1\n2\n3\n4\n5\n6')
  assert.is(buffer.size, 3)
  assert.ok(buffer.full)
  assert.equal([buffer.take(), buffer.take()], ['1', '2'])
  buffer.cut()
  assert.is(buffer.size, 3)
  assert.equal(takeAll(buffer), ['3', '4', '5'])
  buffer.cut()
  assert.equal(takeAll(buffer), [])
  buffer.append('\n')
  assert.equal(takeAll(buffer), ['6'])
})

test('terminate() adds no empty line when the uncut text ends with the delimiter', () => {
  const buffer = new DelimitedLineBuffer('\n', 2, 1000)
  buffer.append('1\n2\n3\n4\n')
  buffer.terminate()
  assert.equal(takeAll(buffer), ['1', '2'])
  buffer.cut()
  assert.equal(takeAll(buffer), ['3', '4'])
  buffer.cut()
  assert.equal(takeAll(buffer), [])
})

test('reports a partial line longer than maxLineLength', () => {
  const buffer = new DelimitedLineBuffer('\n', 10, 8)
  assert.is(buffer.append('short\n12345'), true)
  assert.is(buffer.append('6789'), false)
})

test.run()

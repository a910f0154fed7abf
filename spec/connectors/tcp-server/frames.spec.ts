import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { FrameTooLargeError, LengthPrefixedFrames, LineFrames } from '../../../lib/connectors/tcp-server/index.js'

const Frames = suite('tcp frames')

const cut = (decoder: { push(c: Buffer, e: (f: string | Buffer) => void): void }, chunks: Buffer[]): string[] => {
  const out: string[] = []
  for (const chunk of chunks) decoder.push(chunk, (f) => out.push(f.toString()))
  return out
}

Frames('lines: cut across chunks (a UTF-8 character split too), \\r\\n and empty lines kept, the rest held', () => {
  const lines = new LineFrames(16)
  const u = Buffer.from('ü')
  assert.equal(
    cut(lines, [
      Buffer.from('ab'),
      Buffer.from('c\r\n\nde'),
      Buffer.concat([Buffer.from('f'), u.subarray(0, 1)]),
      Buffer.concat([u.subarray(1), Buffer.from('\ng')]),
    ]),
    ['abc', '', 'defü'],
  )
  assert.is(lines.pendingBytes, 1)
})

Frames('lines: a \r ending one chunk before the \n starting the next is dropped; a \r inside a line is kept', () => {
  assert.equal(cut(new LineFrames(16), [Buffer.from('ab\r'), Buffer.from('\nc\rd\n')]), ['ab', 'c\rd'])
})

Frames("pushTo hands the same frames as push to the sink's frame method", () => {
  const chunks = [Buffer.from('a\r\nb'), Buffer.from('c\n\n')]
  const frames: string[] = []
  const lines = new LineFrames(16)
  for (const chunk of chunks) lines.pushTo(chunk, { frame: (f) => frames.push(f) })
  assert.equal(frames, cut(new LineFrames(16), chunks))
  assert.equal(frames, ['a', 'bc', ''])
})

Frames('lines: a line over maxFrameBytes fails as soon as it is known, finished or not', () => {
  assert.throws(
    () => cut(new LineFrames(4), [Buffer.from('abcde\n')]),
    (e: unknown) => e instanceof FrameTooLargeError,
  )
  const held = new LineFrames(4)
  assert.throws(() => cut(held, [Buffer.from('abc'), Buffer.from('de')]), /exceeds maxFrameBytes \(4\)/)
})

Frames(
  'length-prefixed: frames split anywhere, even inside the length; oversized lengths refused before buffering',
  () => {
    const frame = (text: string): Buffer => {
      const body = Buffer.from(text)
      const head = Buffer.alloc(4)
      head.writeUInt32BE(body.length)
      return Buffer.concat([head, body])
    }
    const all = Buffer.concat([frame('hi'), frame(''), frame('there')])
    const frames = new LengthPrefixedFrames(16)
    assert.equal(cut(frames, [all.subarray(0, 2), all.subarray(2, 9), all.subarray(9)]), ['hi', '', 'there'])
    assert.is(frames.pendingBytes, 0)
    const big = Buffer.alloc(4)
    big.writeUInt32BE(1 << 30)
    assert.throws(
      () => cut(new LengthPrefixedFrames(16), [big]),
      (e: unknown) => e instanceof FrameTooLargeError,
    )
  },
)

Frames.run()

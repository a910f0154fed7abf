import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { DelimitedFrames, FrameTooLargeError, LengthPrefixedFrames } from '../../../lib/connectors/tcp-server/index.js'

const Frames = suite('tcp frames')

const cut = (decoder: { push(c: Buffer, e: (f: Buffer) => void): void }, chunks: Buffer[]): string[] => {
  const out: string[] = []
  for (const chunk of chunks) decoder.push(chunk, (f) => out.push(f.toString()))
  return out
}

Frames('lines: cut across chunks, \\r\\n and empty lines kept, the unfinished rest held', () => {
  const lines = new DelimitedFrames(0x0a, 16)
  assert.equal(cut(lines, [Buffer.from('ab'), Buffer.from('c\r\n\nde'), Buffer.from('f\ng')]), ['abc', '', 'def'])
  assert.is(lines.pendingBytes, 1)
})

Frames('lines: a line over maxFrameBytes fails as soon as it is known, finished or not', () => {
  assert.throws(
    () => cut(new DelimitedFrames(0x0a, 4), [Buffer.from('abcde\n')]),
    (e: unknown) => e instanceof FrameTooLargeError,
  )
  const held = new DelimitedFrames(0x0a, 4)
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

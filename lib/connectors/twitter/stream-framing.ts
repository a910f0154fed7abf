import type { Readable } from 'node:stream'
import type { TweetStream } from 'twitter-api-v2'

/** The parts of a TweetStream (twitter-api-v2 1.29) that framing needs: protected in its types. */
interface StreamInternals {
  readonly res?: Readable
  readonly parser?: { currentMessage: string; push(chunk: string): void }
}

/**
 * Mends two framing faults of twitter-api-v2's TweetStream (1.29; plhery/node-twitter-api-v2#536), as X
 * does not promise that messages fall on HTTP chunk boundaries: a chunk that is `\r\n` alone is taken
 * for a keep-alive even when it ends a message cut across chunks (that message is then glued to the
 * next and both fail to parse), and each chunk is decoded on its own (a character cut across chunks is
 * garbled). Call before `connect()`: the response is decoded as one UTF-8 stream, and the returned
 * function, called on each of the library's keep-alive events, hands a lone `\r\n` that ends a pending
 * message to the parser and answers whether it was that delimiter rather than a keep-alive.
 *
 * @example
 * const endsMessage = mendFraming(stream)
 * stream.on('data keep-alive', () => { if (!endsMessage()) keepAlives.inc() })
 */
export function mendFraming(stream: TweetStream): () => boolean {
  const internals = stream as unknown as StreamInternals
  if (typeof internals.parser?.push !== 'function' || typeof internals.parser.currentMessage !== 'string')
    throw new Error("twitter-api-v2's TweetStream no longer has the parser sluice mends: check its version")
  const parser = internals.parser
  // emitted after the response is there and before the library listens to its data
  stream.on('connected', () => internals.res?.setEncoding('utf8'))
  return () => {
    if (parser.currentMessage.length === 0) return false
    parser.push('\r\n')
    return true
  }
}

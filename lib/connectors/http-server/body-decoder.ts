import type { HttpBodyFormat } from './options.js'

/**
 * The values of one request in `format`: one parsed JSON value, one per non-empty NDJSON line, the
 * body as UTF-8 text, the bytes, or the query parameters as an object. Throws an Error whose message
 * is the reason a client gets with its 400 (and the dead letter carries).
 *
 * @example
 * decodeBody('ndjson', Buffer.from('{"a":1}\n{"a":2}\n'), new URLSearchParams()) // [{ a: 1 }, { a: 2 }]
 */
export function decodeBody(format: HttpBodyFormat, body: Buffer, query: URLSearchParams): unknown[] {
  switch (format) {
    case 'json':
      return [parseJson(body.toString('utf8'), 'the body')]
    case 'ndjson': {
      const values: unknown[] = []
      const lines = body.toString('utf8').split('\n')
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!.trim()
        if (line !== '') values.push(parseJson(line, `line ${i + 1}`))
      }
      return values
    }
    case 'text':
      return [body.toString('utf8')]
    case 'bytes':
      return [body]
    case 'query':
      return [Object.fromEntries(query)]
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new Error(`${what} is not JSON: ${(error as Error).message}`)
  }
}

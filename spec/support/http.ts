import { request } from 'node:http'

/** An answer as a test reads it: status, headers, text and the parsed JSON (undefined when not JSON). */
export interface HttpAnswer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly text: string
  readonly json: any
}

/**
 * Sends one request with node:http, the path sent byte for byte (fetch would normalise a malformed
 * `%` escape away), and resolves with the whole answer.
 *
 * @example
 * const { status, json } = await http(server.url, '/jobs', { token: 's3cret' })
 */
export function http(
  base: string,
  path: string,
  options: { method?: string; token?: string; body?: unknown } = {},
): Promise<HttpAnswer> {
  const url = new URL(base)
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: options.method ?? 'GET',
        headers: {
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => {
          let json: unknown
          try {
            json = JSON.parse(text)
          } catch {
            json = undefined
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
        })
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}

import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

/** One answer of {@link httpExchange}. */
export interface HttpAnswer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) }

/**
 * One HTTP request and its whole answer, on node:http(s) with kept-alive connections. Not `fetch`:
 * HDFS DataNodes answer a write with an unasked `100 Continue` before the real answer, which node:http
 * passes over and undici's fetch refuses ('bad response'). Rejects on a network failure or when no
 * answer is complete after `timeoutMs`.
 *
 * @example
 * const answer = await httpExchange('http://nn:9870/webhdfs/v1/a?op=GETFILESTATUS', 'GET', undefined, 30_000)
 */
export function httpExchange(
  url: string,
  method: string,
  body: Uint8Array | undefined,
  timeoutMs: number,
): Promise<HttpAnswer> {
  const https = url.startsWith('https:')
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      url,
      {
        method,
        agent: https ? agents.https : agents.http,
        headers:
          body === undefined ? {} : { 'content-type': 'application/octet-stream', 'content-length': body.byteLength },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      },
    )
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end(body)
  })
}

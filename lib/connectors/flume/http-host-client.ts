import { messageOf } from '../../errors.js'
import type { AvroFlumeEvent } from './avro-protocol.js'
import { type FlumeHostClient, HostFailure } from './host-client.js'
import type { FlumeHost } from './options.js'

/**
 * Flume's HTTP source with its JSONHandler, for agents that expose only HTTP: one POST per batch of a
 * JSON array `[{ "headers": {…}, "body": "…" }]` in UTF-8. The source answers 200 when the batch is in
 * its channel, 503 when the channel is full (retried) and 400 when the JSON is malformed (not retried).
 * Connections are kept alive by Node's fetch.
 *
 * @example
 * const client = new HttpHostClient({ host: '127.0.0.1', port: 5140, address: '127.0.0.1:5140' }, 20_000)
 * await client.appendBatch([{ headers: {}, body: Buffer.from('hello') }])
 */
export class HttpHostClient implements FlumeHostClient {
  readonly address: string
  private readonly url: string
  private readonly abort = new AbortController()

  constructor(
    host: FlumeHost,
    private readonly requestTimeoutMs: number,
  ) {
    this.address = host.address
    this.url = `http://${host.address}/`
  }

  async appendBatch(events: readonly AvroFlumeEvent[]): Promise<void> {
    const json = JSON.stringify(events.map((e) => ({ headers: e.headers, body: e.body.toString('utf8') })))
    let response: Response
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=UTF-8' },
        body: json,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.requestTimeoutMs)]),
      })
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause
      if ((error as Error).name === 'TimeoutError')
        throw new HostFailure('timeout', this.address, `no answer within ${this.requestTimeoutMs} ms`, { cause: error })
      const refused = cause?.code === 'ECONNREFUSED' || cause?.code === 'ENOTFOUND' || cause?.code === 'EHOSTUNREACH'
      throw new HostFailure(refused ? 'connect' : 'lost', this.address, messageOf(cause ?? error), { cause: error })
    }
    const text = await response.text().catch(() => '')
    if (response.status === 200) return
    const detail = `HTTP ${response.status}${text === '' ? '' : `: ${text.slice(0, 200)}`}`
    throw new HostFailure(response.status === 400 ? 'rejected' : 'refused', this.address, detail)
  }

  close(): void {
    this.abort.abort()
  }
}

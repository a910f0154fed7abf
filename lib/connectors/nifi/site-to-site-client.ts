import http from 'node:http'
import https from 'node:https'
import { ConnectorError } from '../../errors.js'

/** The transport protocol version this client speaks (NiFi's HTTP site-to-site, version 1). */
export const TRANSPORT_PROTOCOL_VERSION = '1'

/** Site-to-site response codes (NiFi's `ResponseCode`) that travel in the HTTP transport. */
export const ResponseCode = {
  CONTINUE_TRANSACTION: 10,
  CONFIRM_TRANSACTION: 12,
  TRANSACTION_FINISHED: 13,
  TRANSACTION_FINISHED_BUT_DESTINATION_FULL: 14,
  CANCEL_TRANSACTION: 15,
  BAD_CHECKSUM: 19,
  UNKNOWN_PORT: 200,
  PORT_NOT_IN_VALID_STATE: 201,
  PORTS_DESTINATION_FULL: 202,
  UNAUTHORIZED: 240,
  ABORT: 250,
} as const

/** Header names of the HTTP site-to-site protocol (NiFi's `HttpHeaders`). */
export const Headers = {
  protocolVersion: 'x-nifi-site-to-site-protocol-version',
  transactionTtl: 'x-nifi-site-to-site-server-transaction-ttl',
  locationIntent: 'x-location-uri-intent',
  batchCount: 'x-nifi-site-to-site-batch-count',
  batchSize: 'x-nifi-site-to-site-batch-size',
  batchDuration: 'x-nifi-site-to-site-batch-duration',
  requestExpiration: 'x-nifi-site-to-site-request-expiration',
} as const

/** TLS material for `https://` NiFi URLs (client certificate, trusted CAs). */
export interface SiteToSiteTls {
  /** PEM CA certificates to trust; default the system's. */
  ca?: string | Buffer
  /** PEM client certificate (mutual TLS, as NiFi's keystore). */
  cert?: string | Buffer
  /** PEM private key of the client certificate. */
  key?: string | Buffer
  /** Passphrase of the private key; never logged. */
  passphrase?: string
  /** Verify the server's certificate; default true. */
  rejectUnauthorized?: boolean
}

/** How the client talks HTTP: TLS, a bearer token, timeouts and the batch hints sent as headers. */
export interface SiteToSiteClientSettings {
  readonly tls: SiteToSiteTls | undefined
  /** `Authorization: Bearer …` on every request (NiFi's access token); never logged. */
  readonly bearerToken: string | undefined
  readonly requestTimeoutMs: number
  readonly batchCount: number
  readonly batchSizeBytes: number
  readonly batchDurationMs: number
}

/** A port of the remote NiFi's root group that site-to-site can reach. */
export interface RemotePort {
  readonly id: string
  readonly name: string
}

/** The remote NiFi's `/site-to-site` answer, as far as the client uses it. */
export interface RemoteController {
  readonly inputPorts: RemotePort[]
  readonly outputPorts: RemotePort[]
}

/** A NiFi node listed by `/site-to-site/peers`, as its API base URL. */
export interface RemotePeer {
  readonly url: string
  readonly flowFileCount: number
}

/** A transaction on a port: its URL (from the Location header) and the server's TTL. */
export interface RemoteTransaction {
  readonly url: string
  readonly ttlSeconds: number
}

/**
 * A NiFi answer that was not what the protocol expects. `transactionGone` is a 404 on a transaction
 * URL: it expired (TTL) or was already ended.
 *
 * @example
 * try { await client.extend(tx.url) } catch (e) { if (e instanceof SiteToSiteError && e.transactionGone) retry() }
 */
export class SiteToSiteError extends ConnectorError {
  constructor(
    readonly status: number,
    readonly responseCode: number | undefined,
    message: string,
    readonly transactionGone = false,
  ) {
    // Refused credentials are retried like an unreachable node (a token may be renewed meanwhile) and
    // end in ERR_CONNECT after the retries; an unknown port cannot get better.
    super(status === 401 || status === 403 ? 'ERR_AUTH' : 'ERR_NIFI', message, {
      retriable: responseCode !== ResponseCode.UNKNOWN_PORT,
    })
  }
}

interface HttpAnswer {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
}

/**
 * Normalises a NiFi URL to its API base as NiFi's own client does: `http://h:8080` and
 * `http://h:8080/nifi` become `http://h:8080/nifi-api`.
 *
 * @example
 * nifiApiBase('http://127.0.0.1:8080/nifi') // 'http://127.0.0.1:8080/nifi-api'
 */
export function nifiApiBase(url: string): string {
  const u = new URL(url)
  let path = u.pathname.replace(/\/+$/, '')
  if (path === '') path = '/nifi'
  if (path.endsWith('/nifi')) path += '-api'
  else if (!path.endsWith('/nifi-api')) path += '/nifi-api'
  return `${u.protocol}//${u.host}${path}`
}

/**
 * NiFi's HTTP site-to-site protocol on node:http (what `SiteToSiteRestApiClient` does in Java), one
 * method per request: discovery (`/site-to-site`, `/site-to-site/peers`), transactions on input and
 * output ports (`/data-transfer/{input,output}-ports/{id}/transactions`), their data (`/flow-files`),
 * TTL extension (PUT), commit and cancel (DELETE with `responseCode`, and `checksum` when receiving).
 * Keeps connections alive. It knows nothing of checkpoints: the reader and writer decide when to commit.
 *
 * @example
 * const client = new SiteToSiteClient(settings)
 * const tx = await client.begin('http://127.0.0.1:8080/nifi-api', 'send', portId)
 * const checksum = await client.send(tx.url, encodeFlowFiles(flowFiles))
 * await client.commitSent(tx.url)
 */
export class SiteToSiteClient {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 })
  private readonly httpsAgent: https.Agent

  constructor(private readonly settings: SiteToSiteClientSettings) {
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16, ...settings.tls })
  }

  /** The remote instance's input and output ports (GET /site-to-site). */
  async controller(base: string): Promise<RemoteController> {
    const answer = await this.expect('GET', `${base}/site-to-site`, [200])
    const controller = (parseJson(answer.body, `${base}/site-to-site`) as { controller?: Partial<RemoteController> })
      ?.controller
    if (controller === undefined || controller === null || typeof controller !== 'object')
      throw new SiteToSiteError(answer.status, undefined, `${base}/site-to-site: no controller in the answer`)
    return { inputPorts: ports(controller.inputPorts), outputPorts: ports(controller.outputPorts) }
  }

  /** The nodes of the remote cluster (GET /site-to-site/peers), as API base URLs. */
  async peers(base: string): Promise<RemotePeer[]> {
    const answer = await this.expect('GET', `${base}/site-to-site/peers`, [200])
    const listed = (parseJson(answer.body, `${base}/site-to-site/peers`) as { peers?: unknown })?.peers
    if (!Array.isArray(listed))
      throw new SiteToSiteError(200, undefined, `${base}/site-to-site/peers: no peers in the answer`)
    const scheme = new URL(base).protocol
    return listed.flatMap((p: { hostname?: unknown; port?: unknown; secure?: unknown; flowFileCount?: unknown }) =>
      typeof p?.hostname === 'string' && typeof p.port === 'number'
        ? [
            {
              url: `${p.secure === true ? 'https:' : p.secure === false ? 'http:' : scheme}//${p.hostname}:${p.port}/nifi-api`,
              flowFileCount: typeof p.flowFileCount === 'number' ? p.flowFileCount : 0,
            },
          ]
        : [],
    )
  }

  /** Opens a transaction: 'receive' on an output port, 'send' on an input port. */
  async begin(base: string, direction: 'send' | 'receive', portId: string): Promise<RemoteTransaction> {
    const kind = direction === 'receive' ? 'output-ports' : 'input-ports'
    const answer = await this.expect(
      'POST',
      `${base}/data-transfer/${kind}/${encodeURIComponent(portId)}/transactions`,
      [201],
    )
    const location = answer.headers.location
    if (answer.headers[Headers.locationIntent] !== 'transaction-url' || typeof location !== 'string')
      throw new SiteToSiteError(
        201,
        undefined,
        `${base}: transaction created without a transaction-url Location header`,
      )
    if (answer.headers[Headers.protocolVersion] === undefined)
      throw new SiteToSiteError(201, undefined, `${base}: server did not confirm the protocol version`)
    const ttl = Number(answer.headers[Headers.transactionTtl])
    if (!Number.isFinite(ttl) || ttl <= 0)
      throw new SiteToSiteError(201, undefined, `${base}: server did not return ${Headers.transactionTtl}`)
    return { url: new URL(location, base).toString(), ttlSeconds: ttl }
  }

  /** The FlowFiles of a receive transaction, undefined when the port had none (200). */
  async receive(transactionUrl: string): Promise<Buffer | undefined> {
    const answer = await this.expect('GET', `${transactionUrl}/flow-files`, [200, 202])
    return answer.status === 202 ? answer.body : undefined
  }

  /** Sends encoded FlowFiles in a send transaction; resolves with the checksum the server computed. */
  async send(transactionUrl: string, body: Buffer): Promise<string> {
    const answer = await this.expect('POST', `${transactionUrl}/flow-files`, [202], body)
    return answer.body.toString('utf8').trim()
  }

  /**
   * Confirms a receive transaction with the client's CRC32: NiFi then removes the FlowFiles from its
   * queue. 'bad-checksum' when NiFi computed another CRC (it keeps them and sends them again).
   */
  async confirmReceived(transactionUrl: string, checksum: string): Promise<'confirmed' | 'bad-checksum'> {
    const url = `${transactionUrl}?responseCode=${ResponseCode.CONFIRM_TRANSACTION}&checksum=${checksum}`
    const answer = await this.expect('DELETE', url, [200, 400])
    const code = resultCode(answer)
    if (code === ResponseCode.CONFIRM_TRANSACTION) return 'confirmed'
    if (code === ResponseCode.BAD_CHECKSUM) return 'bad-checksum'
    throw failure(answer, transactionUrl)
  }

  /** Commits a send transaction whose checksum matched: NiFi hands the FlowFiles to the flow. */
  async commitSent(transactionUrl: string): Promise<'finished' | 'destination-full'> {
    const answer = await this.expect(
      'DELETE',
      `${transactionUrl}?responseCode=${ResponseCode.CONFIRM_TRANSACTION}`,
      [200, 400],
    )
    const code = resultCode(answer)
    if (code === ResponseCode.TRANSACTION_FINISHED) return 'finished'
    if (code === ResponseCode.TRANSACTION_FINISHED_BUT_DESTINATION_FULL) return 'destination-full'
    throw failure(answer, transactionUrl)
  }

  /** Cancels a transaction (receive: NiFi keeps the FlowFiles; send: it drops what was sent). */
  async cancel(transactionUrl: string, why: 'cancel' | 'bad-checksum' = 'cancel'): Promise<void> {
    const code = why === 'cancel' ? ResponseCode.CANCEL_TRANSACTION : ResponseCode.BAD_CHECKSUM
    await this.expect('DELETE', `${transactionUrl}?responseCode=${code}`, [200, 400])
  }

  /** Extends the transaction's TTL on the server (PUT), as the Java client does every TTL/2. */
  async extend(transactionUrl: string): Promise<void> {
    await this.expect('PUT', transactionUrl, [200])
  }

  close(): void {
    this.httpAgent.destroy()
    this.httpsAgent.destroy()
  }

  private async expect(method: string, url: string, statuses: number[], body?: Buffer): Promise<HttpAnswer> {
    const answer = await this.request(method, url, body)
    if (!statuses.includes(answer.status)) throw failure(answer, url.replace(/\?.*$/, ''))
    return answer
  }

  private request(method: string, url: string, body: Buffer | undefined): Promise<HttpAnswer> {
    const target = new URL(url)
    const secure = target.protocol === 'https:'
    const s = this.settings
    const headers: Record<string, string | number> = {
      [Headers.protocolVersion]: TRANSPORT_PROTOCOL_VERSION,
      accept: method === 'POST' && body !== undefined ? 'text/plain' : 'application/json',
    }
    if (s.batchCount > 0) headers[Headers.batchCount] = s.batchCount
    if (s.batchSizeBytes > 0) headers[Headers.batchSize] = s.batchSizeBytes
    if (s.batchDurationMs > 0) headers[Headers.batchDuration] = s.batchDurationMs
    if (s.bearerToken !== undefined) headers.authorization = `Bearer ${s.bearerToken}`
    if (body !== undefined) {
      headers['content-type'] = 'application/octet-stream'
      headers['content-length'] = body.length
    }
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(
        target,
        { method, headers, agent: secure ? this.httpsAgent : this.httpAgent, timeout: s.requestTimeoutMs },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('error', reject)
          res.on('aborted', () => reject(new Error(`${method} ${target.origin}${target.pathname}: answer cut off`)))
          res.on('end', () => {
            if (!res.complete) return reject(new Error(`${method} ${target.origin}${target.pathname}: answer cut off`))
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })
          })
        },
      )
      req.on('timeout', () =>
        req.destroy(
          new Error(`${method} ${target.origin}${target.pathname}: no answer within ${s.requestTimeoutMs} ms`),
        ),
      )
      req.on('error', (e) =>
        reject(new Error(`${method} ${target.origin}${target.pathname}: ${e.message}`, { cause: e })),
      )
      req.end(body)
    })
  }
}

function parseJson(body: Buffer, where: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    throw new SiteToSiteError(200, undefined, `${where}: the answer is not JSON (not a NiFi site-to-site endpoint?)`)
  }
}

function ports(value: unknown): RemotePort[] {
  if (!Array.isArray(value)) return []
  return value
    .filter((p): p is RemotePort => typeof p?.id === 'string' && typeof p?.name === 'string')
    .map((p) => ({ id: p.id, name: p.name }))
}

function resultCode(answer: HttpAnswer): number | undefined {
  try {
    const code = (JSON.parse(answer.body.toString('utf8')) as { responseCode?: unknown }).responseCode
    return typeof code === 'number' ? code : undefined
  } catch {
    return undefined
  }
}

function failure(answer: HttpAnswer, where: string): SiteToSiteError {
  let code: number | undefined
  let message = answer.body.toString('utf8').slice(0, 200)
  try {
    const entity = JSON.parse(message) as { responseCode?: unknown; message?: unknown }
    if (typeof entity.responseCode === 'number') code = entity.responseCode
    if (typeof entity.message === 'string') message = entity.message
  } catch {
    // a plain-text answer (NiFi answers some errors so)
  }
  const gone = answer.status === 404 && /\/transactions\/[^/]+(\/flow-files)?$/.test(where)
  return new SiteToSiteError(
    answer.status,
    code,
    `${where}: HTTP ${answer.status}${code === undefined ? '' : ` (response code ${code})`}: ${message}`,
    gone,
  )
}

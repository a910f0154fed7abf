import { ConnectorError, messageOf } from '../../errors.js'
import { backoffDelay } from '../../util/backoff.js'
import type { WebHdfsSettings } from './options.js'
import { type HttpAnswer, httpExchange } from './http-exchange.js'
import { WebHdfsError } from './webhdfs-error.js'

/** The HTTP method each WebHDFS operation this client uses is sent with. */
const METHODS = {
  CREATE: 'PUT',
  APPEND: 'POST',
  TRUNCATE: 'POST',
  RENAME: 'PUT',
  MKDIRS: 'PUT',
  DELETE: 'DELETE',
  LISTSTATUS: 'GET',
  GETFILESTATUS: 'GET',
  OPEN: 'GET',
} as const

/** A WebHDFS operation of {@link WebHdfsClient}. */
export type WebHdfsOp = keyof typeof METHODS

/**
 * Exceptions a server names for a condition that passes: the request is tried again (on the next
 * NameNode for a standby). Everything else it names fails the call at once.
 */
/** The NameNode has no live DataNode to place a block on (one is restarting or not registered yet): passes. */
const NO_LIVE_DATANODE = /Failed to find datanode|could only be written to 0 of the 1 minReplication nodes/

const RETRIABLE_EXCEPTIONS = new Set([
  'StandbyException',
  'RetriableException',
  'SafeModeException',
  'RecoveryInProgressException',
  'AlreadyBeingCreatedException',
  'ConnectException',
  'SocketTimeoutException',
  'EOFException',
  'ClosedChannelException',
])

/** Exceptions that say the credential (user name or delegation token) was refused. */
const REFUSED_CREDENTIAL = new Set(['SecurityException', 'InvalidToken', 'AuthenticationException'])

/** What a call sends besides its operation and path. */
export interface WebHdfsCall {
  /** Query parameters of the operation (`overwrite`, `destination`, `newlength`, …). */
  readonly params?: Record<string, string>
  /** The data of CREATE or APPEND: sent to the DataNode the NameNode redirects to (the two-step write). */
  readonly body?: Uint8Array
  /** Whether a response body is read as bytes (OPEN) instead of JSON. */
  readonly binary?: boolean
  /**
   * Asked before a retry when an earlier attempt may have been done in part or whole (an APPEND whose
   * data reached the DataNode): 'done' ends the call as a success, 'retry' sends it again. A call
   * without it is sent again as it is.
   */
  readonly beforeAmbiguousRetry?: () => Promise<'done' | 'retry'>
}

/**
 * A WebHDFS REST client on node:http (no JVM): every call is `/webhdfs/v1<path>?op=…` on a NameNode,
 * with `user.name` or `delegation` from the settings. CREATE and APPEND are the documented two-step
 * write: the NameNode answers 307 with a DataNode's address, where the data is then sent; OPEN follows
 * its redirect the same way. A call that cannot reach a NameNode, times out, or is answered with a
 * passing condition (standby, safe mode, lease recovery) is tried again with the connector retry
 * backoff, rotating over the NameNode URLs; after `maxRetries` retries it fails with ConnectorError
 * `ERR_CONNECT`. A refused credential fails at once with `ERR_CONNECT`; any other refusal with a
 * {@link WebHdfsError}. Error messages name the operation, the path and the NameNode's base URL, never
 * a query string (the delegation token travels in it).
 *
 * @example
 * const client = new WebHdfsClient(webHdfsSettings({ url: 'http://127.0.0.1:9870', user: 'etl' }))
 * await client.call('MKDIRS', '/data/out')
 * const listing = await client.call('LISTSTATUS', '/data/out')
 */
export class WebHdfsClient {
  private current = 0

  constructor(
    readonly settings: WebHdfsSettings,
    private readonly random: () => number = Math.random,
  ) {}

  /** The NameNode currently used, as its base URL. */
  get url(): string {
    return this.settings.urls[this.current]!
  }

  /** Runs `op` on `path`; resolves with the parsed JSON answer (or the bytes of OPEN). */
  async call(op: WebHdfsOp, path: string, call: WebHdfsCall = {}): Promise<unknown> {
    const { retry } = this.settings
    let ambiguous = false
    let lastCause: unknown
    for (let attempt = 0; ; attempt++) {
      const base = this.url
      try {
        if (ambiguous && call.beforeAmbiguousRetry !== undefined) {
          if ((await call.beforeAmbiguousRetry()) === 'done') return {}
          ambiguous = false
        }
        return await this.attempt(op, path, base, call, ambiguous)
      } catch (error) {
        if (!(error instanceof PassingFailure) && !(ambiguous && isConnectFailure(error))) throw error
        lastCause = error instanceof PassingFailure ? (error.cause ?? error) : error
        ambiguous ||= error instanceof PassingFailure && error.ambiguous
        if (this.settings.urls.length > 1) this.current = (this.current + 1) % this.settings.urls.length
      }
      if (attempt >= retry.maxRetries) break
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, retry, this.random)))
    }
    throw new ConnectorError(
      'ERR_CONNECT',
      `webhdfs ${op} ${path}: no answer from ${this.settings.urls.join(', ')} after ${retry.maxRetries + 1} attempts: ${messageOf(lastCause)}`,
      { cause: lastCause, retriable: true },
    )
  }

  private async attempt(op: WebHdfsOp, path: string, base: string, call: WebHdfsCall, ambiguous: boolean) {
    const method = METHODS[op]
    const where = `webhdfs ${op} ${path} at ${base}`
    const first = await this.exchange(where, this.operationUrl(base, op, path, call.params), method, undefined)
    const twoStep = call.body !== undefined || op === 'OPEN'
    if (twoStep && first.status === 307) {
      const location = first.headers.location
      if (location === undefined)
        throw new WebHdfsError(`${where}: redirect without a Location`, 'HTTP 307', 307, ambiguous)
      // From here the DataNode may have written part of the data before a failure: ambiguous.
      const second = await this.exchange(where, location, method, call.body, true)
      return this.answer(where, second, call, ambiguous || op !== 'OPEN')
    }
    return this.answer(where, first, call, ambiguous)
  }

  private answer(where: string, answer: HttpAnswer, call: WebHdfsCall, ambiguous: boolean): unknown {
    if (answer.status >= 200 && answer.status < 300) {
      if (call.binary === true) return new Uint8Array(answer.body)
      const text = answer.body.toString('utf8')
      return text === '' ? {} : JSON.parse(text)
    }
    throw this.refusal(where, answer, ambiguous)
  }

  /** One HTTP exchange; a network failure or a timeout is a {@link PassingFailure}. */
  private async exchange(
    where: string,
    url: string,
    method: string,
    body: Uint8Array | undefined,
    ambiguous = method !== 'GET',
  ): Promise<HttpAnswer> {
    try {
      return await httpExchange(url, method, body, this.settings.requestTimeoutMs)
    } catch (error) {
      throw new PassingFailure(`${where}: ${messageOf(error)}`, ambiguous, error)
    }
  }

  /** The error for a non-2xx answer: a passing one to retry, a refused credential, or a refusal. */
  private refusal(where: string, answer: HttpAnswer, ambiguous: boolean): Error {
    const text = answer.body.toString('utf8')
    let exception = `HTTP ${answer.status}`
    let message = text.slice(0, 200)
    try {
      const remote = (JSON.parse(text) as { RemoteException?: { exception?: string; message?: string } })
        .RemoteException
      if (remote?.exception !== undefined) {
        exception = remote.exception
        message = remote.message ?? ''
      }
    } catch {
      // not JSON: an HTML error page, or nothing
    }
    // The server's message may quote the request; its first line is enough and a token never belongs in it.
    message = message.split('\n')[0]!.replace(/delegation=[^&\s]*/g, 'delegation=[redacted]')
    const described = `${where}: ${exception}${message === '' ? '' : `: ${message}`}`
    if (answer.status === 401 || REFUSED_CREDENTIAL.has(exception))
      return new ConnectorError('ERR_CONNECT', `${described} (credential refused)`, { retriable: false })
    if (
      RETRIABLE_EXCEPTIONS.has(exception) ||
      (answer.status >= 500 && exception.startsWith('HTTP ')) ||
      NO_LIVE_DATANODE.test(message)
    )
      return new PassingFailure(described, ambiguous, new Error(described))
    return new WebHdfsError(described, exception, answer.status, ambiguous)
  }

  private operationUrl(base: string, op: WebHdfsOp, path: string, params: Record<string, string> = {}): string {
    const query = new URLSearchParams({ op, ...params })
    if (this.settings.delegationToken !== undefined) query.set('delegation', this.settings.delegationToken)
    else if (this.settings.user !== undefined) query.set('user.name', this.settings.user)
    return `${base}/webhdfs/v1${encodePath(path)}?${query}`
  }
}

/** Whether `error` is the ERR_CONNECT of a nested call (a length check before a retry that found no NameNode). */
function isConnectFailure(error: unknown): boolean {
  return error instanceof ConnectorError && error.code === 'ERR_CONNECT' && error.retriable
}

/** A failure worth another attempt; `ambiguous` when the server may have done the operation. */
class PassingFailure extends Error {
  constructor(
    message: string,
    readonly ambiguous: boolean,
    override readonly cause: unknown,
  ) {
    super(message)
  }
}

/** `path` ('/a b/c') percent-encoded segment by segment, its slashes kept. */
function encodePath(path: string): string {
  const absolute = path.startsWith('/') ? path : `/${path}`
  return absolute.split('/').map(encodeURIComponent).join('/')
}

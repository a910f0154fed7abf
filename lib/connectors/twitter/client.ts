import { Agent as HttpAgent } from 'node:http'
import type { TwitterApi } from 'twitter-api-v2'
import { ConnectorError, messageOf } from '../../errors.js'
import { optionalDependency } from '../../util/optional-dependency.js'
import type { TwitterSourceSettings } from './options.js'

const twitterApiV2 = await optionalDependency<typeof import('twitter-api-v2')>('twitter-api-v2')

/**
 * Throws MissingPackageError when `twitter-api-v2` is not installed: the source calls it when it is
 * built, so a missing client fails the job's construction.
 *
 * @example
 * checkTwitterClient() // throws when twitter-api-v2 is not installed
 */
export function checkTwitterClient(): void {
  twitterApiV2.check('twitterSource')
}

/**
 * A `twitter-api-v2` client for the settings' bearer token and base URL. The library has no base-URL
 * option: the v2 prefix is set with its (protected) `setPrefix`, and a plain-HTTP base URL (a proxy,
 * a test server) needs an http agent, the library's default being https.
 *
 * @example
 * const client = twitterClient(settings)
 * await client.v2.streamRules()
 */
export function twitterClient(settings: TwitterSourceSettings): TwitterApi {
  const { TwitterApi } = twitterApiV2.get('twitterSource')
  const plain = settings.baseUrl.startsWith('http:')
  const client = new TwitterApi(settings.bearerToken, plain ? { httpAgent: new HttpAgent({ keepAlive: true }) } : {})
  ;(client.v2 as unknown as { setPrefix(prefix: string): void }).setPrefix(settings.baseUrl)
  return client
}

/** How X says to back off after a failure of this kind. */
export type TwitterFailureKind = 'network' | 'http' | 'rate-limit'

/**
 * A failed request or a lost stream, classified for X's backoff: 'network' (refused, reset, stalled,
 * disconnected: linear), 'http' (5xx and other retriable statuses: exponential), 'rate-limit' (429:
 * until `resetAtMs` when the rate window is used up, else exponentially from `rateLimitDelayMs`). Its message is X's own (status, title, detail), never the request's headers.
 *
 * @example
 * throw new TwitterStreamError('network', 'stream stalled: no data or keep-alive for 20000 ms')
 */
export class TwitterStreamError extends ConnectorError {
  constructor(
    readonly kind: TwitterFailureKind,
    message: string,
    options: { status?: number; resetAtMs?: number; cause?: unknown; retriable?: boolean } = {},
  ) {
    super('ERR_TWITTER', message, { cause: options.cause, retriable: options.retriable ?? true })
    this.status = options.status
    this.resetAtMs = options.resetAtMs
  }
  readonly status: number | undefined
  readonly resetAtMs: number | undefined
}

/** The statuses after which a retry cannot help: bad request, credentials, missing endpoint. */
const FINAL_STATUSES = new Set([400, 401, 403, 404, 409, 422])

/**
 * Turns what `twitter-api-v2` rejected with into a {@link TwitterStreamError} carrying X's message;
 * the library's error (which holds the request and its Authorization header) is not kept as cause,
 * and the token is cut out of every text as a last guard. Statuses a retry cannot fix (400, 401, 403,
 * …) are marked not retriable, so the job fails at once with X's reason.
 *
 * @example
 * const error = twitterError(e, settings.bearerToken, 'connect to /2/tweets/search/stream')
 */
export function twitterError(error: unknown, token: string, what: string): TwitterStreamError {
  if (error instanceof TwitterStreamError) return error
  const e = error as {
    code?: unknown
    data?: unknown
    rateLimit?: { reset?: number; remaining?: number }
    requestError?: unknown
    _options?: { error?: unknown }
    type?: unknown
  }
  if (e !== null && typeof e === 'object' && typeof e.code === 'number' && e.type === 'response') {
    const status = e.code
    const text = redact(`${what}: HTTP ${status}${xProblem(e.data)}`, token)
    if (status === 429) {
      // the reset is the end of the request-rate window: worth waiting for when that window is used up;
      // a 429 for too many connections (requests left) backs off from rateLimitDelayMs instead
      const reset = e.rateLimit?.reset
      const exhausted = e.rateLimit?.remaining === 0 && typeof reset === 'number' && Number.isFinite(reset) && reset > 0
      return new TwitterStreamError('rate-limit', text, { status, resetAtMs: exhausted ? reset * 1000 : undefined })
    }
    return new TwitterStreamError('http', text, { status, retriable: !FINAL_STATUSES.has(status) })
  }
  // ApiRequestError: the socket's own error (ECONNREFUSED, ECONNRESET, …); its `requestError` getter
  // reads a key 1.29.1 does not set, so the options it was made with are read too
  const cause =
    e !== null && typeof e === 'object' && e.type === 'request' ? (e.requestError ?? e._options?.error) : error
  return new TwitterStreamError('network', redact(`${what}: ${messageOf(cause)}`, token), {
    cause: cause instanceof Error && !messageOf(cause).includes(token) ? cause : undefined,
  })
}

/**
 * X's problem description from a response body (`title: detail`, and each of `errors`' messages), or ''.
 *
 * @example
 * xProblem({ title: 'Unauthorized', detail: 'Unauthorized' }) // ' Unauthorized: Unauthorized'
 */
export function xProblem(data: unknown): string {
  if (data === null || typeof data !== 'object') return ''
  const d = data as { title?: unknown; detail?: unknown; errors?: unknown }
  const parts: string[] = []
  if (typeof d.title === 'string') parts.push(typeof d.detail === 'string' ? `${d.title}: ${d.detail}` : d.title)
  if (Array.isArray(d.errors))
    for (const err of d.errors.slice(0, 5)) {
      const m = err as { message?: unknown; title?: unknown; detail?: unknown }
      const text = typeof m.message === 'string' ? m.message : typeof m.detail === 'string' ? m.detail : m.title
      if (typeof text === 'string' && !parts.includes(text)) parts.push(text)
    }
  return parts.length === 0 ? '' : ` ${parts.join('; ')}`
}

/**
 * `text` with every occurrence of `token` replaced by `(hidden)`.
 *
 * @example
 * redact('Bearer abc', 'abc') // 'Bearer (hidden)'
 */
export function redact(text: string, token: string): string {
  return token === '' ? text : text.split(token).join('(hidden)')
}

import { ConnectorError, messageOf } from '../../errors.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { connectWithRetry } from './connect-retry.js'
import type { RetrySchedule } from './retry-options.js'
import type { ServerAddress } from './server-address.js'

/** Where a server source tells its bound address, and how it retries (Bahir's registration callback). */
export interface AddressCallback {
  /** An http(s) URL; user info in it becomes a Basic Authorization header, never part of a message. */
  readonly url: URL
  readonly retry: RetrySchedule
  /** Each request's time limit. */
  readonly timeoutMs: number
}

/**
 * The URL as it may be shown: scheme, host, port and path, without user info or query (either may
 * carry a credential).
 *
 * @example
 * shownUrl(new URL('https://bot:s3cret@reg.example/sources?key=k')) // 'https://reg.example/sources'
 */
export function shownUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`
}

/**
 * POSTs `{ host, port, subtask }` as JSON to the callback URL, retried on `callback.retry` (a network
 * error or an answer other than 2xx); once the retries are used up it rejects with ConnectorError
 * 'ERR_CALLBACK' naming the URL without its credentials. `closed` stops further attempts.
 *
 * @example
 * await registerAddress(callback, { host: '127.0.0.1', port: 9000, url: 'tcp://127.0.0.1:9000' }, 0, clock, () => false)
 */
export async function registerAddress(
  callback: AddressCallback,
  address: ServerAddress,
  subtask: number,
  clock: ProcessingTimeService,
  closed: () => boolean,
): Promise<void> {
  const { url } = callback
  const target = new URL(url.href)
  const headers: Record<string, string> = { 'Content-Type': 'application/json' }
  if (url.username !== '' || url.password !== '') {
    const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
    headers.Authorization = `Basic ${Buffer.from(user).toString('base64')}`
    target.username = ''
    target.password = ''
  }
  const body = JSON.stringify({ host: address.host, port: address.port, subtask })
  const post = async (): Promise<void> => {
    const response = await fetch(target, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(callback.timeoutMs),
    })
    await response.arrayBuffer()
    if (!response.ok) throw new Error(`answered ${response.status}`)
  }
  const shown = shownUrl(url)
  try {
    await connectWithRetry(post, callback.retry, { target: `callback ${shown}`, clock, closed })
  } catch (error) {
    const reason =
      error instanceof ConnectorError && error.cause !== undefined ? messageOf(error.cause) : messageOf(error)
    throw new ConnectorError(
      'ERR_CALLBACK',
      `cannot tell callback ${shown} the address ${address.host}:${address.port} of subtask ${subtask} after ${callback.retry.maxRetries + 1} attempt(s): ${reason}`,
      { cause: error, retriable: true },
    )
  }
}

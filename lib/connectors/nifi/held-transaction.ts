import type { Logger } from '../../logging.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { backoffDelay } from '../../util/backoff.js'
import type { RetrySettings } from '../base/retry-options.js'
import { type SiteToSiteClient, SiteToSiteError } from './site-to-site-client.js'

/**
 * Keeps a transaction alive on its NiFi node while it is held (the source until the checkpoint
 * covering its FlowFiles completes, the sink until the checkpoint it was pre-committed for does):
 * a PUT on the transaction URL every TTL/2, as NiFi's Java client does. A 404 means NiFi expired or
 * dropped it, and so does a TTL without one successful extension (its node is down): `onGone` is
 * told once and the extension stops.
 *
 * @example
 * const stop = keepAlive(client, tx, processingTime, log, () => { lost = true })
 * // … later, before committing:
 * stop()
 */
export function keepAlive(
  client: SiteToSiteClient,
  transaction: { readonly url: string; readonly ttlSeconds: number },
  processingTime: ProcessingTimeService,
  log: Logger,
  onGone: () => void,
): () => void {
  let stopped = false
  let cancel: (() => void) | undefined
  const ttlMs = transaction.ttlSeconds * 1000
  const periodMs = Math.max(100, ttlMs / 2)
  let extendedAt = processingTime.now()
  const gone = (): void => {
    stopped = true
    onGone()
  }
  const schedule = (): void => {
    cancel = processingTime.scheduleAt(processingTime.now() + periodMs, () => {
      if (stopped) return
      client.extend(transaction.url).then(
        () => {
          extendedAt = processingTime.now()
          if (!stopped) schedule()
        },
        (error: unknown) => {
          if (stopped) return
          if (error instanceof SiteToSiteError && error.transactionGone) return gone()
          if (processingTime.now() - extendedAt >= ttlMs) return gone()
          log.warn('NiFi transaction TTL extension failed; trying again', {
            transaction: transaction.url,
            error: String(error),
          })
          schedule()
        },
      )
    })
  }
  schedule()
  return () => {
    stopped = true
    cancel?.()
  }
}

/**
 * Runs one request on a transaction URL (it lives on one node: no other peer can take it), retrying
 * a failure that is not a 404 with the retry settings' backoff. A 404 (`transactionGone`) is
 * thrown at once: retrying cannot bring the transaction back. `request` gets the attempt number: a
 * 404 on a retry may mean that the failed attempt did reach NiFi.
 *
 * @example
 * await onTransaction(retry, processingTime, () => client.commitSent(tx.url))
 */
export async function onTransaction<T>(
  retry: RetrySettings,
  processingTime: ProcessingTimeService,
  request: (attempt: number) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request(attempt)
    } catch (error) {
      const final = error instanceof SiteToSiteError && (error.transactionGone || !error.retriable)
      if (final || attempt >= retry.maxRetries) throw error
      const delay = backoffDelay(attempt, retry)
      await new Promise<void>((resolve) => processingTime.scheduleAt(processingTime.now() + delay, resolve))
    }
  }
}

/**
 * Cancels a transaction that will not be confirmed (NiFi then hands an output port's FlowFiles out
 * again at once, or drops an input port's), retrying as {@link onTransaction} does: a cancel that
 * fails once must not leave the transaction open until NiFi's TTL. A 404 means it is already gone.
 * Never rejects: a cancel that fails after the retries is logged, and NiFi's TTL ends the transaction.
 *
 * @example
 * await cancelTransaction(client, tx.url, settings.retry, processingTime, log)
 */
export async function cancelTransaction(
  client: SiteToSiteClient,
  url: string,
  retry: RetrySettings,
  processingTime: ProcessingTimeService,
  log: Logger,
  why: 'cancel' | 'bad-checksum' = 'cancel',
): Promise<void> {
  try {
    await onTransaction(retry, processingTime, () => client.cancel(url, why))
  } catch (error) {
    if (error instanceof SiteToSiteError && error.transactionGone) return
    log.warn('a NiFi transaction could not be cancelled; NiFi ends it after its TTL', {
      transaction: url,
      error: String(error),
    })
  }
}

import { ConfigError } from '../../errors.js'
import { BACKOFF_KEYS, type BackoffOptions, backoffDelay, validateBackoff } from '../../util/backoff.js'

/** When and how often a failed or unwanted request is tried again (Flink's AsyncRetryStrategy). */
export type RetryStrategy<OUT> = FixedDelayRetry<OUT> | ExponentialBackoffRetry<OUT>

/** What every retry strategy takes: the attempt limit and which outcomes are retried. */
interface RetryBase<OUT> {
  /** Calls of the function per record, the first one included; at least 1. */
  maxAttempts: number
  /** Whether a rejection is retried; default: every rejection is. */
  retryOnError?: (error: unknown) => boolean
  /**
   * Whether a result is retried (a "not ready yet" answer); default: no result is. When the attempts
   * run out, the last result is emitted as it is.
   */
  retryOnResult?: (result: OUT) => boolean
}

/** The same pause before every retry. */
export interface FixedDelayRetry<OUT> extends RetryBase<OUT> {
  strategy: 'fixed-delay'
  delayMs: number
}

/**
 * Pauses growing by `multiplier` (default 2) from `initialDelayMs`, capped at `maxDelayMs`. With
 * `jitter` j (0..1, default 0) each pause is drawn uniformly from [d·(1−j), d·(1+j)], then capped at
 * `maxDelayMs` again, so that many subtasks retrying together spread out ({@link backoffDelay}).
 */
export interface ExponentialBackoffRetry<OUT> extends RetryBase<OUT>, BackoffOptions {
  strategy: 'exponential-backoff'
}

/**
 * The pause before retry number `retry` (1 = the second attempt). A pure function of the strategy and
 * the random draw, so the backoff math is tested on its own.
 *
 * @example
 * retryDelayMs({ strategy: 'exponential-backoff', initialDelayMs: 10, maxDelayMs: 1000, maxAttempts: 5 }, 3) // 40
 */
export function retryDelayMs<OUT>(
  strategy: RetryStrategy<OUT>,
  retry: number,
  random: () => number = Math.random,
): number {
  if (strategy.strategy === 'fixed-delay') return strategy.delayMs
  return backoffDelay(retry - 1, strategy, random)
}

/**
 * Checks a retry strategy when the job is built; the error names the option (`asyncMap.retry.delayMs`).
 *
 * @example
 * validateRetryStrategy('asyncMap.retry', { strategy: 'fixed-delay', delayMs: 5, maxAttempts: 3 })
 */
export function validateRetryStrategy(option: string, retry: unknown): asserts retry is RetryStrategy<unknown> {
  if (retry === null || typeof retry !== 'object')
    throw new ConfigError(option, retry, "an object { strategy: 'fixed-delay' | 'exponential-backoff', … }")
  const r = retry as Record<string, unknown>
  const known =
    r.strategy === 'fixed-delay' ? ['delayMs'] : r.strategy === 'exponential-backoff' ? BACKOFF_KEYS : undefined
  if (known === undefined)
    throw new ConfigError(`${option}.strategy`, r.strategy, "'fixed-delay' or 'exponential-backoff'")
  for (const key of Object.keys(r)) {
    if (!['strategy', 'maxAttempts', 'retryOnError', 'retryOnResult', ...known].includes(key)) {
      throw new ConfigError(
        `${option}.${key}`,
        r[key],
        `no such option for strategy '${r.strategy}' (known: maxAttempts, retryOnError, retryOnResult, ${known.join(', ')})`,
      )
    }
  }
  if (!Number.isInteger(r.maxAttempts) || (r.maxAttempts as number) < 1)
    throw new ConfigError(
      `${option}.maxAttempts`,
      r.maxAttempts,
      'a whole number of at least 1 (the first call included)',
    )
  for (const key of ['retryOnError', 'retryOnResult']) {
    if (r[key] !== undefined && typeof r[key] !== 'function')
      throw new ConfigError(`${option}.${key}`, r[key], 'a predicate function')
  }
  if (r.strategy === 'fixed-delay') {
    delay(option, 'delayMs', r.delayMs)
    return
  }
  validateBackoff(option, r as unknown as BackoffOptions)
}

function delay(option: string, key: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new ConfigError(`${option}.${key}`, value, 'a number of milliseconds, 0 or more')
}

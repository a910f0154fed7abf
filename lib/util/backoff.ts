import { ConfigError } from '../errors.js'

/**
 * The one backoff vocabulary: actor restarts, job restarts, async retries and connector reconnects all
 * say how a delay grows with these four names (plus a count, `maxAttempts` or `maxRetries`, where one
 * applies).
 */
export interface BackoffOptions {
  /** Delay of the first attempt (attempt 0). */
  readonly initialDelayMs: number
  /** Ceiling of every delay, jitter included. */
  readonly maxDelayMs: number
  /** Growth per attempt, at least 1; default 2. */
  readonly multiplier?: number
  /** Random spread as a ± fraction of the delay, 0..1; default 0 (none). */
  readonly jitter?: number
}

/** The keys of {@link BackoffOptions}, for `optionsObject`'s list of known keys. */
export const BACKOFF_KEYS: readonly string[] = ['initialDelayMs', 'maxDelayMs', 'multiplier', 'jitter']

/**
 * The delay before attempt number `attempt` (0 for the first): `initialDelayMs · multiplier^attempt`,
 * capped at `maxDelayMs`, then spread uniformly over [d·(1−jitter), d·(1+jitter)] and capped at
 * `maxDelayMs` again, so that many clients retrying together spread out. Pure: randomness comes from
 * `random`, so tests pass a fixed one; `random` is not called when jitter is 0.
 *
 * @example
 * backoffDelay(0, { initialDelayMs: 100, maxDelayMs: 10_000 })                  // 100
 * backoffDelay(3, { initialDelayMs: 100, maxDelayMs: 10_000 })                  // 800
 * backoffDelay(1, { initialDelayMs: 100, maxDelayMs: 10_000, jitter: 0.5 }, () => 1) // 300
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const { initialDelayMs, maxDelayMs, multiplier = 2, jitter = 0 } = options
  // initialDelayMs 0 stays 0 for every attempt; guarding it avoids 0 · Infinity = NaN once the power overflows.
  const base = initialDelayMs === 0 ? 0 : Math.min(maxDelayMs, initialDelayMs * multiplier ** Math.max(0, attempt))
  if (jitter === 0) return base
  return Math.min(maxDelayMs, base * (1 + jitter * (2 * random() - 1)))
}

/**
 * Checks backoff options once, when a job or connector is built, and returns them with the defaults
 * applied; the ConfigError names the option under `path` (`rabbitmqSource.retry.maxDelayMs`).
 *
 * @example
 * validateBackoff('asyncMap.retry', { initialDelayMs: 10, maxDelayMs: 1_000 })
 * // { initialDelayMs: 10, maxDelayMs: 1000, multiplier: 2, jitter: 0 }
 * validateBackoff('restartStrategy', { initialDelayMs: 100, maxDelayMs: 50 }) // throws: restartStrategy.maxDelayMs
 */
export function validateBackoff(path: string, options: BackoffOptions): Required<BackoffOptions> {
  const { initialDelayMs, maxDelayMs, multiplier = 2, jitter = 0 } = options
  if (typeof initialDelayMs !== 'number' || !Number.isFinite(initialDelayMs) || initialDelayMs < 0)
    throw new ConfigError(`${path}.initialDelayMs`, initialDelayMs, 'a number of milliseconds, 0 or more')
  if (typeof maxDelayMs !== 'number' || !Number.isFinite(maxDelayMs) || maxDelayMs < initialDelayMs)
    throw new ConfigError(
      `${path}.maxDelayMs`,
      maxDelayMs,
      `a number of milliseconds ≥ initialDelayMs (${initialDelayMs})`,
    )
  if (typeof multiplier !== 'number' || !Number.isFinite(multiplier) || multiplier < 1)
    throw new ConfigError(`${path}.multiplier`, multiplier, 'a number of at least 1')
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1))
    throw new ConfigError(`${path}.jitter`, jitter, 'a number from 0 to 1')
  return { initialDelayMs, maxDelayMs, multiplier, jitter }
}

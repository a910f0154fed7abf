import { ConfigError } from '../errors.js'

/** How the delay before a restart grows with each attempt. */
export interface BackoffOptions {
  /** Delay of the first attempt, and the floor of every delay (jitter included). */
  readonly minMs: number
  /** Ceiling of every delay (jitter included). */
  readonly maxMs: number
  /** Growth per attempt; default 2. */
  readonly factor?: number
  /** Random spread as a ± fraction of the delay, 0..1; default 0 (none). */
  readonly jitter?: number
}

/**
 * The delay before attempt number `attempt` (0 for the first): `minMs * factor^attempt`, capped at
 * `maxMs`, then spread by ±`jitter` and clamped back into [minMs, maxMs] so both bounds are promises a
 * caller can rely on. Pure: randomness comes from `random`, so tests pass a fixed one.
 *
 * @example
 * backoffDelay(0, { minMs: 100, maxMs: 10_000 })         // 100
 * backoffDelay(3, { minMs: 100, maxMs: 10_000 })         // 800
 * backoffDelay(1, { minMs: 100, maxMs: 10_000, jitter: 0.5 }, () => 1) // 300
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const { minMs, maxMs, factor = 2, jitter = 0 } = options
  // minMs 0 stays 0 for every attempt; guarding it avoids 0 * Infinity = NaN once factor^attempt overflows.
  const base = minMs === 0 ? 0 : Math.min(maxMs, minMs * factor ** Math.max(0, attempt))
  const spread = jitter === 0 ? 0 : base * jitter * (random() * 2 - 1)
  return Math.min(maxMs, Math.max(minMs, base + spread))
}

/**
 * Throws a ConfigError naming the first invalid backoff option; called once when a strategy is built.
 *
 * @example
 * validateBackoff({ minMs: 100, maxMs: 50 }) // throws: invalid option backoff.maxMs: 50 ...
 */
export function validateBackoff(options: BackoffOptions): void {
  const { minMs, maxMs, factor = 2, jitter = 0 } = options
  if (!Number.isFinite(minMs) || minMs < 0) throw new ConfigError('backoff.minMs', minMs, 'a finite number ≥ 0')
  if (!Number.isFinite(maxMs) || maxMs < minMs) {
    throw new ConfigError('backoff.maxMs', maxMs, `a finite number ≥ backoff.minMs (${minMs})`)
  }
  if (!Number.isFinite(factor) || factor < 1) throw new ConfigError('backoff.factor', factor, 'a finite number ≥ 1')
  if (!(jitter >= 0 && jitter <= 1)) throw new ConfigError('backoff.jitter', jitter, 'a fraction between 0 and 1')
}

import type { OperatorOptions } from '../../runtime/transformation.js'
import { validateOperatorOptions } from '../../api/validate-options.js'
import { ConfigError } from '../../errors.js'
import { type RetryStrategy, validateRetryStrategy } from './retry-strategy.js'
import { SharedLimiter } from './shared-limiter.js'

/** The async function: one request per record; abort the work when `signal` fires (timeout, cancel). */
export type AsyncFunction<IN, OUT> = (value: IN, signal: AbortSignal) => PromiseLike<OUT>

/** What happens to a record whose request outlives `timeoutMs`. */
export type TimeoutPolicy<IN, OUT> =
  /** The record fails through the operator's error policy (`onError`): escalate, restart, or resume (dead letter). */
  | 'fail'
  /** The record's output is `fallback(value)`. */
  | { fallback: (value: IN) => OUT }

/** Options of {@link asyncMap}; every one has a default. */
export interface AsyncMapOptions<IN, OUT> extends OperatorOptions {
  /**
   * Records one subtask holds at most before it stops reading input: requests in flight plus results
   * waiting for their turn (ordered mode) or for their watermark (unordered). Calls of the function
   * in flight never exceed it. Default 100.
   */
  capacity?: number
  /** Emit in input order (default); false: as results come, but never across a watermark. */
  ordered?: boolean
  /** Time a record's request may take, from its first call to its result, retries included; default none. */
  timeoutMs?: number
  /** Default 'fail'. */
  onTimeout?: TimeoutPolicy<IN, OUT>
  /** Calls again after a rejection or an unwanted result; default none. */
  retry?: RetryStrategy<OUT>
  /** A concurrency limit shared with other operators calling the same service. */
  limiter?: SharedLimiter
}

/** The options an async operator runs with, checked and with defaults filled in. */
export interface ResolvedAsyncOptions<IN, OUT> {
  readonly capacity: number
  readonly ordered: boolean
  readonly timeoutMs: number | undefined
  readonly fallback: ((value: IN) => OUT) | undefined
  readonly retry: RetryStrategy<OUT> | undefined
  readonly limiter: SharedLimiter | undefined
}

const DEFAULT_CAPACITY = 100
const ASYNC_KEYS = ['capacity', 'ordered', 'timeoutMs', 'onTimeout', 'retry', 'limiter']

/**
 * Checks the async options when the job is built and splits them from the operator options; the
 * error names the option (`asyncMap.capacity`). Unknown keys are refused, so a misspelt or foreign
 * option (`concurrency`) does not silently fall back to a default.
 *
 * @example
 * const { resolved, operatorOptions } = resolveAsyncOptions('asyncMap', { capacity: 10, name: 'enrich' })
 */
export function resolveAsyncOptions<IN, OUT>(
  operator: string,
  options: AsyncMapOptions<IN, OUT>,
): { resolved: ResolvedAsyncOptions<IN, OUT>; operatorOptions: OperatorOptions } {
  validateOperatorOptions(operator, options, ASYNC_KEYS)
  const {
    capacity = DEFAULT_CAPACITY,
    ordered = true,
    timeoutMs,
    onTimeout = 'fail',
    retry,
    limiter,
    ...operatorOptions
  } = options
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new ConfigError(`${operator}.capacity`, capacity, 'a whole number of at least 1')
  if (typeof ordered !== 'boolean') throw new ConfigError(`${operator}.ordered`, ordered, 'true or false')
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new ConfigError(`${operator}.timeoutMs`, timeoutMs, 'a positive number of milliseconds')
  }
  let fallback: ((value: IN) => OUT) | undefined
  if (onTimeout !== 'fail') {
    if (onTimeout === null || typeof onTimeout !== 'object' || typeof onTimeout.fallback !== 'function') {
      throw new ConfigError(`${operator}.onTimeout`, onTimeout, "'fail' or { fallback: (value) => result }")
    }
    fallback = onTimeout.fallback
  }
  if (options.onTimeout !== undefined && timeoutMs === undefined)
    throw new ConfigError(`${operator}.onTimeout`, options.onTimeout, 'given together with timeoutMs')
  if (retry !== undefined) validateRetryStrategy(`${operator}.retry`, retry)
  if (limiter !== undefined && !(limiter instanceof SharedLimiter))
    throw new ConfigError(`${operator}.limiter`, limiter, 'a limiter from sharedLimiter(concurrency)')
  return { resolved: { capacity, ordered, timeoutMs, fallback, retry, limiter }, operatorOptions }
}

import { backoffDelay } from '../../util/backoff.js'
import { ConfigError, ConnectorError, messageOf } from '../../errors.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { finiteNumber, optionsObject } from '../../util/options.js'

/** The `retry` option of a connector: how often, and after how long, a failed connection is tried again. */
export interface RetryOptions {
  /** Attempts after the first failed one before ConnectorError 'ERR_CONNECT'; Infinity: forever. Default 5. */
  maxRetries?: number
  /** Delay before the first retry; default 200 ms. */
  initialDelayMs?: number
  /** Ceiling of the delay; default 10,000 ms. */
  maxDelayMs?: number
  /** Growth of the delay per retry; default 2. */
  multiplier?: number
  /** Random spread as a ± fraction of each delay, 0..1; default 0. */
  jitter?: number
}

/** {@link RetryOptions} after validation, defaults applied. */
export interface RetrySchedule {
  readonly maxRetries: number
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly multiplier: number
  readonly jitter: number
}

const RETRY_KEYS = ['maxRetries', 'initialDelayMs', 'maxDelayMs', 'multiplier', 'jitter']

/**
 * Validates a `retry` option (every key named by its path) and applies the defaults.
 *
 * @example
 * retrySchedule('kafkaSource.retry', { maxRetries: 2 }) // { maxRetries: 2, initialDelayMs: 200, … }
 */
export function retrySchedule(path: string, options: RetryOptions | undefined): RetrySchedule {
  const o = optionsObject(path, options, RETRY_KEYS)
  const maxRetries = o.maxRetries ?? 5
  if (typeof maxRetries !== 'number' || !(maxRetries === Infinity || (Number.isInteger(maxRetries) && maxRetries >= 0)))
    throw new ConfigError(`${path}.maxRetries`, maxRetries, 'a whole number of at least 0, or Infinity')
  const initialDelayMs = finiteNumber(`${path}.initialDelayMs`, o.initialDelayMs, 200, 0)
  const maxDelayMs = finiteNumber(`${path}.maxDelayMs`, o.maxDelayMs, Math.max(10_000, initialDelayMs), initialDelayMs)
  const multiplier = finiteNumber(`${path}.multiplier`, o.multiplier, 2, 1)
  const jitter = finiteNumber(`${path}.jitter`, o.jitter, 0, 0)
  if (jitter > 1) throw new ConfigError(`${path}.jitter`, jitter, 'a fraction from 0 to 1')
  return { maxRetries, initialDelayMs, maxDelayMs, multiplier, jitter }
}

/** Where {@link connectWithRetry} waits, and when it stops. */
export interface ConnectRetryContext {
  /** What is connected to, for the error: `kafka source: brokers a:9092 (topics orders)`. */
  readonly target: string
  /** Times the waits between attempts. */
  readonly clock: ProcessingTimeService
  /** True once the owner closed: no further attempt is made. */
  readonly closed: () => boolean
  readonly random?: () => number
  /** Told of each failed attempt that will be retried. */
  readonly onRetry?: (attempt: number, delayMs: number, error: unknown) => void
}

/**
 * Runs `connect` until it succeeds, retrying failures on `schedule`; when the retries are used up, fails
 * with ConnectorError 'ERR_CONNECT' naming the target and the attempts, the client's error as its cause.
 *
 * @example
 * await connectWithRetry(() => admin.connect(), schedule, { target: 'kafka source: brokers a:9092', clock, closed: () => false })
 */
export async function connectWithRetry<C>(
  connect: () => Promise<C>,
  schedule: RetrySchedule,
  context: ConnectRetryContext,
): Promise<C> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await connect()
    } catch (error) {
      if (attempt >= schedule.maxRetries || context.closed())
        throw new ConnectorError(
          'ERR_CONNECT',
          `${context.target}: cannot connect after ${attempt + 1} attempt(s): ${messageOf(error)}`,
          { cause: error, retriable: true },
        )
      const delayMs = backoffDelay(attempt, schedule, context.random)
      context.onRetry?.(attempt + 1, delayMs, error)
      await new Promise<void>((resolve) => context.clock.scheduleAt(context.clock.now() + delayMs, resolve))
    }
  }
}

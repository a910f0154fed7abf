import { backoffDelay } from '../../util/backoff.js'
import { ConnectorError, messageOf } from '../../errors.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import type { RetrySchedule } from './retry-options.js'

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

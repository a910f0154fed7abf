import pLimit, { type LimitFunction } from 'p-limit'
import { ConfigError } from '../../errors.js'

/**
 * A concurrency limit shared by every operator (and job) given it: calls of the async functions that
 * use it never run more than `concurrency` at once in this process, whatever each operator's capacity.
 * For a service that allows N connections in total. A call waiting here counts as in flight for its
 * operator (and for its timeout).
 */
export class SharedLimiter {
  private readonly limit: LimitFunction

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new ConfigError('sharedLimiter.concurrency', concurrency, 'a whole number of at least 1')
    this.limit = pLimit(concurrency)
  }

  /** Runs `task` once fewer than `concurrency` tasks of this limiter run. */
  run<T>(task: () => PromiseLike<T> | T): Promise<T> {
    return this.limit(task)
  }

  /** Tasks running now. */
  get activeCount(): number {
    return this.limit.activeCount
  }

  /** Tasks waiting for a turn. */
  get pendingCount(): number {
    return this.limit.pendingCount
  }
}

/**
 * A limit on concurrent calls shared by several async operators, built on `p-limit`.
 *
 * @example
 * const geo = sharedLimiter(20)
 * orders.pipe(asyncMap(lookupCustomer, { limiter: geo }), asyncMap(lookupShop, { limiter: geo }))
 */
export function sharedLimiter(concurrency: number): SharedLimiter {
  return new SharedLimiter(concurrency)
}

import { engineOperator, type EngineOperator, requireStream } from '../api/engine-operator.js'
import { requireFunction } from '../api/validate-options.js'
import { ConfigError } from '../errors.js'
import { type AsyncFunction, type AsyncMapOptions, resolveAsyncOptions } from './async/async-options.js'
import { AsyncWaitOperator } from './async/async-wait-operator.js'

export {
  asyncMetrics,
  AsyncIoMetrics,
  type AsyncIoMetricsSnapshot,
  type LatencyPercentiles,
} from './async/async-io-metrics.js'
export type { AsyncFunction, AsyncMapOptions, TimeoutPolicy } from './async/async-options.js'
export { AsyncTimeoutError } from './async/async-timeout-error.js'
export type { ExponentialBackoffRetry, FixedDelayRetry, RetryStrategy } from './async/retry-strategy.js'
export { SharedLimiter, sharedLimiter } from './async/shared-limiter.js'

/**
 * Asynchronous enrichment (Flink's AsyncDataStream): calls `fn` for every record with at most
 * `capacity` requests in flight per subtask, and emits each result with the record's timestamp.
 * Ordered (default): in input order. Unordered: as results come, but never across a watermark.
 * When `capacity` records are held the subtask stops reading, which backpressures to the source.
 *
 * The requests in flight are part of checkpoints (their inputs, issued again on restore, so an
 * exactly-once sink sees each result once); a bounded job ends only after all have been emitted.
 * `signal` aborts on timeout and when the job is cancelled or fails. Failures (rejections, timeouts
 * under `onTimeout: 'fail'`, retries exhausted) go through the error policy: escalate (default),
 * restart, or resume (the record goes to `DEAD_LETTERS`). Inputs must be serialisable for checkpoints.
 *
 * @example
 * const enriched = orders.pipe(asyncMap(async (o: Order, signal) => {
 *   const res = await fetch(`http://customers/${o.customerId}`, { signal })
 *   return { ...o, customer: await res.json() }
 * }, { capacity: 50, timeoutMs: 2_000, retry: { strategy: 'exponential-backoff', initialDelayMs: 50, maxDelayMs: 1_000, jitter: 0.2, maxAttempts: 4 } }))
 */
export function asyncMap<IN, OUT>(
  fn: AsyncFunction<IN, OUT>,
  options: AsyncMapOptions<IN, OUT> = {},
): EngineOperator<IN, OUT> {
  return asyncOperator('asyncMap', fn, options)
}

/**
 * {@link asyncMap} emitting in input order (Flink's AsyncDataStream.orderedWait).
 *
 * @example
 * env.fromElements(1, 2, 3).pipe(orderedWait(async (id: number) => lookup(id), { capacity: 10, timeoutMs: 500 }))
 */
export function orderedWait<IN, OUT>(
  fn: AsyncFunction<IN, OUT>,
  options: Omit<AsyncMapOptions<IN, OUT>, 'ordered'> = {},
): EngineOperator<IN, OUT> {
  return asyncOperator('orderedWait', fn, withOrder('orderedWait', options, true))
}

/**
 * {@link asyncMap} emitting results as they come, never across a watermark (Flink's
 * AsyncDataStream.unorderedWait): lower latency when request times vary.
 *
 * @example
 * clicks.pipe(unorderedWait(async (c: Click, signal) => ({ ...c, geo: await geoOf(c.ip, signal) }), { capacity: 200 }))
 */
export function unorderedWait<IN, OUT>(
  fn: AsyncFunction<IN, OUT>,
  options: Omit<AsyncMapOptions<IN, OUT>, 'ordered'> = {},
): EngineOperator<IN, OUT> {
  return asyncOperator('unorderedWait', fn, withOrder('unorderedWait', options, false))
}

function withOrder<IN, OUT>(
  operator: string,
  options: Omit<AsyncMapOptions<IN, OUT>, 'ordered'>,
  ordered: boolean,
): AsyncMapOptions<IN, OUT> {
  if (options === null || typeof options !== 'object')
    throw new ConfigError(`${operator} options`, options, 'an object')
  const given = (options as AsyncMapOptions<IN, OUT>).ordered
  if (given !== undefined && given !== ordered)
    throw new ConfigError(`${operator}.ordered`, given, `${ordered} or nothing (use asyncMap to choose)`)
  return { ...options, ordered }
}

function asyncOperator<IN, OUT>(
  operator: string,
  fn: AsyncFunction<IN, OUT>,
  options: AsyncMapOptions<IN, OUT>,
): EngineOperator<IN, OUT> {
  requireFunction(operator, fn, 'a function (value, signal) => Promise')
  const { resolved, operatorOptions } = resolveAsyncOptions(operator, options)
  return engineOperator((input) =>
    requireStream(input, operator).transform(operator, () => new AsyncWaitOperator(fn, resolved), operatorOptions),
  )
}

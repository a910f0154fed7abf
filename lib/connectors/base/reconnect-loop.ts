import { ConfigError, ConnectorError, messageOf } from '../../errors.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { type BackoffOptions, backoffDelay, validateBackoff } from '../../util/backoff.js'
import { readDeprecated } from '../../util/deprecated-options.js'

/** The reconnection names of the release before, each with its replacement. */
const DEPRECATED_RETRY_NAMES = { retryDelayMs: 'initialDelayMs', maxRetryDelayMs: 'maxDelayMs' }

/**
 * How a connector connects again. Shared by the RabbitMQ, ActiveMQ, MQTT and Redis connectors and
 * the socket source and sink: nothing in it knows a protocol. The delays use the one backoff
 * vocabulary ({@link BackoffOptions}).
 */
export interface ConnectionRetryOptions extends Partial<BackoffOptions> {
  /**
   * Attempts after a failed connection attempt or a lost connection before giving up with
   * ConnectorError 'ERR_CONNECT'; counted afresh after each successful connection. 0 = never,
   * Infinity = forever. Default 5.
   */
  maxRetries?: number
  /** Delay before the first retry; default 200 ms (socket, MQTT and Redis: 500 ms). */
  initialDelayMs?: number
  /** Ceiling of the retry delay; default 10,000 ms. */
  maxDelayMs?: number
  /** Growth of the delay per retry; default 2. */
  multiplier?: number
  /** Random spread of each delay, ± this fraction (0..1); default 0. */
  jitter?: number
  /** A connection attempt that has not succeeded after this long fails; default 10,000 ms. */
  connectTimeoutMs?: number
  /** @deprecated use `initialDelayMs` (read as it, with a warning, for this release) */
  retryDelayMs?: number
  /** @deprecated use `maxDelayMs` (read as it, with a warning, for this release) */
  maxRetryDelayMs?: number
}

/**
 * Every key of {@link ConnectionRetryOptions} (deprecated ones included): a connector's own table of
 * known keys spreads it, so `optionsObject` accepts them.
 */
export const RETRY_OPTIONS: Readonly<Record<keyof ConnectionRetryOptions, true>> = {
  maxRetries: true,
  initialDelayMs: true,
  maxDelayMs: true,
  multiplier: true,
  jitter: true,
  connectTimeoutMs: true,
  retryDelayMs: true,
  maxRetryDelayMs: true,
}

/** Retry settings after validation, defaults applied. */
export interface RetrySettings extends Required<BackoffOptions> {
  readonly maxRetries: number
  readonly connectTimeoutMs: number
}

/**
 * Validates the retry options of `owner` ('rabbitmqSource', 'socketSink', …) and applies defaults
 * (`defaultInitialDelayMs` for the first retry's delay). The names of the release before
 * (`retryDelayMs`, `maxRetryDelayMs`) are read as `initialDelayMs`, `maxDelayMs`, with a warning.
 *
 * @example
 * retrySettings('rabbitmqSink', { maxRetries: 2 }) // { maxRetries: 2, initialDelayMs: 200, maxDelayMs: 10000, … }
 */
export function retrySettings(
  owner: string,
  options: ConnectionRetryOptions,
  defaultInitialDelayMs = 200,
): RetrySettings {
  return readDeprecated(owner, options, DEPRECATED_RETRY_NAMES, (o) => {
    const { maxRetries = 5, initialDelayMs = defaultInitialDelayMs, maxDelayMs = 10_000, connectTimeoutMs = 10_000 } = o
    if (
      typeof maxRetries !== 'number' ||
      !(maxRetries === Infinity || (Number.isSafeInteger(maxRetries) && maxRetries >= 0))
    ) {
      throw new ConfigError(`${owner}.maxRetries`, maxRetries, 'a whole number ≥ 0, or Infinity')
    }
    if (typeof connectTimeoutMs !== 'number' || !Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0)
      throw new ConfigError(`${owner}.connectTimeoutMs`, connectTimeoutMs, 'a finite number > 0')
    const backoff = validateBackoff(owner, { initialDelayMs, maxDelayMs, multiplier: o.multiplier, jitter: o.jitter })
    return { maxRetries, connectTimeoutMs, ...backoff }
  })
}

/** What a {@link ReconnectLoop} reports to its owner. */
export interface ReconnectHandlers<C> {
  /** A connection is up (the first one, or one after a loss). */
  connected(connection: C): void
  /** The retries are used up; the loop stops. */
  failed(error: ConnectorError): void
  /** A connection that was made after `close()`; release it. */
  discard(connection: C): void
  /**
   * The delay before retry number `retry` (0 for the first since the last connection) after `cause`,
   * for a service that says how to back off per kind of failure (X's streams: linear for network
   * errors, exponential for HTTP errors, until the rate-limit reset for a 429). Undefined (or absent):
   * `backoffDelay` with the loop's settings.
   */
  retryDelay?(cause: unknown, retry: number): number | undefined
}

/**
 * Connects, and connects again after a failed attempt or a lost connection, with a doubling delay
 * (`backoffDelay`) scheduled on the subtask's processing-time service. Every connection gets
 * `maxRetries` retries, counted afresh after each success; when they are used up the owner gets one
 * ConnectorError 'ERR_CONNECT' naming the endpoint, the attempts and the last cause. An attempt that
 * rejects with a ConnectorError marked not retriable ends the loop with that error at once.
 *
 * @example
 * const loop = new ReconnectLoop(settings, processingTime, 'rabbitmqSource amqp://127.0.0.1:5672',
 *   () => amqp.connect(url), { connected: (c) => use(c), failed: (e) => fail(e), discard: (c) => void c.close() })
 * loop.start()
 */
export class ReconnectLoop<C> {
  private retriesLeft: number
  private retriesUsed = 0
  /** Attempts since the last successful connection, for the error message. */
  private attempts = 0
  private lastError: unknown
  private cancelRetry: (() => void) | undefined
  private closed = false
  /** How many connections were made. */
  connections = 0

  constructor(
    private readonly settings: RetrySettings,
    private readonly processingTime: ProcessingTimeService,
    readonly endpoint: string,
    private readonly attempt: () => Promise<C>,
    private readonly handlers: ReconnectHandlers<C>,
    private readonly random: () => number = Math.random,
  ) {
    this.retriesLeft = settings.maxRetries
  }

  start(): void {
    this.run()
  }

  /** The open connection was lost (`cause` says why): connect again, or give up when retries are used up. */
  lost(cause?: unknown): void {
    if (this.closed) return
    if (cause !== undefined) this.lastError = cause
    this.retryOrFail()
  }

  close(): void {
    this.closed = true
    this.cancelRetry?.()
    this.cancelRetry = undefined
  }

  private run(): void {
    this.cancelRetry = undefined
    if (this.closed) return
    this.attempts++
    this.attempt().then(
      (connection) => {
        if (this.closed) return this.handlers.discard(connection)
        this.connections++
        this.attempts = 0
        this.retriesUsed = 0
        this.retriesLeft = this.settings.maxRetries
        this.handlers.connected(connection)
      },
      (error: unknown) => {
        if (this.closed) return
        // A ConnectorError that is not retriable (a missing queue, bad credentials) ends the loop at once.
        if (error instanceof ConnectorError && !error.retriable) {
          this.closed = true
          return this.handlers.failed(error)
        }
        this.lastError = error
        this.retryOrFail()
      },
    )
  }

  private retryOrFail(): void {
    if (this.retriesLeft === 0) {
      const attempts = Math.max(1, this.attempts)
      const reason = this.lastError === undefined ? 'connection closed' : messageOf(this.lastError)
      this.closed = true
      this.handlers.failed(
        new ConnectorError(
          'ERR_CONNECT',
          `${this.endpoint}: no connection after ${attempts} attempt${attempts === 1 ? '' : 's'} (maxRetries ${this.settings.maxRetries}): ${reason}`,
          { cause: this.lastError, retriable: true },
        ),
      )
      return
    }
    this.retriesLeft--
    const retry = this.retriesUsed++
    const delay = this.handlers.retryDelay?.(this.lastError, retry) ?? backoffDelay(retry, this.settings, this.random)
    this.cancelRetry = this.processingTime.scheduleAt(this.processingTime.now() + delay, () => this.run())
  }
}
